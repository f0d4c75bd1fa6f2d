"""Adapters from the htjax env contract to other APIs (Gymnasium, PettingZoo)."""
