"""Training and shipping policies: PPO on batched worlds, checkpoints, ONNX export and ONNX agents.

Import the submodules you need (``htjax.train.ppo``, ``htjax.train.onnx_export``, ...); this
package imports nothing heavy by itself.
"""
