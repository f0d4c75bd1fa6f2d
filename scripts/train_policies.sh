#!/usr/bin/env bash
# Train, export and evaluate the shipped policies in htjax/policies/ (package data that users load
# by name, e.g. `htjax play holdem --opponent holdem`). Each step's output reproduces the committed
# files (same seed, same machine type: CPU float32). Paths here, not names: the files written are
# this checkout's, whichever htjax is installed.
#   scripts/train_policies.sh [blackjack|ipd|holdem|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
mkdir -p runs

if [[ "$what" == "blackjack" || "$what" == "all" ]]; then
  # casino rules (6 decks, S17, 3:2, DAS, insurance offered, no surrender), flat 1-unit bets
  # (PPO settings: RECIPES["blackjack"] in htjax/train/commands.py; about 14 min on 2 CPU cores)
  htjax train blackjack --config '{"betting": false}' --steps 100000000 --seed 0 --out runs/blackjack.npz
  htjax export runs/blackjack.npz --out htjax/policies/blackjack.onnx --name blackjack-casino-flat-bet
  python scripts/eval_blackjack.py htjax/policies/blackjack.onnx --hands 1000000
fi

if [[ "$what" == "ipd" || "$what" == "all" ]]; then
  # iterated prisoner's dilemma, 100 rounds, against the 14 classic strategies (Gradual and
  # Prober rebuild their counters from the env state: htjax/agents/ipd/opponents.py); evaluated
  # in the 15-player round robin over 10,000 repetitions = 1,200,000 matches
  htjax train prisoners_dilemma --opponents ipd-classic --steps 3000000 --seed 0 --out runs/ipd.npz
  htjax export runs/ipd.npz --out htjax/policies/ipd.onnx --name ipd-vs-classic
  python scripts/eval_ipd.py htjax/policies/ipd.onnx --repetitions 10000
fi

if [[ "$what" == "holdem" || "$what" == "all" ]]; then
  # heads-up no-limit hold'em (default config: blinds 1/2, 100-chip stacks, 9-action menu) against
  # the holdem-baselines mix: call-station (half the worlds), random legal agent, maniac
  htjax train holdem --opponents holdem-baselines --steps 20000000 --seed 0 --out runs/holdem.npz
  htjax export runs/holdem.npz --out htjax/policies/holdem.onnx --name holdem-heads-up-vs-baselines
  python scripts/eval_holdem.py htjax/policies/holdem.onnx --hands 1000000
fi
