"""Live games of ``htjax serve`` (filled in below)."""
