"""``htjax serve``: a local web page to play the shipped policies and watch recorded episodes.

* :mod:`htjax.web.app`: the starlette app (page, static assets, JSON API).
* :mod:`htjax.web.games`: live games: the automerge-repo relay the browsers sync through and
  the engine peer (a dealer-mode ``LiveGame``) of each game.
* :mod:`htjax.web.episodes`: the episode viewer's replay, verification and frames.
* :mod:`htjax.web.server`: :func:`serve` runs it all under uvicorn.

The front end's sources are in the repository's ``web/`` folder; ``npm run build-web``
bundles them with esbuild into ``htjax/web/static/`` (committed, so installing needs no Node).
See ``docs/web.md``.
"""

from htjax.web.server import serve

__all__ = ["serve"]
