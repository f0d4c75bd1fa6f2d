#!/usr/bin/env bash
# Train, export and evaluate the shipped policies in policies/. Each step's output reproduces
# the committed files (same seed, same machine type: CPU float32).
#   scripts/train_policies.sh [blackjack|ipd|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
mkdir -p runs policies

if [[ "$what" == "blackjack" || "$what" == "all" ]]; then
  # casino rules (6 decks, S17, 3:2, DAS, insurance offered, no surrender), flat 1-unit bets
  htjax train blackjack --config '{"betting": false}' --steps 30000000 --seed 0 --out runs/blackjack.npz
  htjax export runs/blackjack.npz --out policies/blackjack.onnx --name blackjack-casino-flat-bet
  python scripts/eval_blackjack.py policies/blackjack.onnx --hands 1000000
fi

if [[ "$what" == "ipd" || "$what" == "all" ]]; then
  # iterated prisoner's dilemma, 100 rounds, against the 12 memory-free classic strategies
  htjax train prisoners_dilemma --opponents ipd-classic --steps 3000000 --seed 0 --out runs/ipd.npz
  htjax export runs/ipd.npz --out policies/ipd.onnx --name ipd-vs-classic
  python scripts/eval_ipd.py policies/ipd.onnx --repetitions 100
fi
