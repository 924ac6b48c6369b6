"""The Projects cloud's client side: :mod:`.client` (the HTTP :class:`~.client.CloudClient`,
the ``http``/``https`` remote), :mod:`.stream` (its change stream) and :mod:`.routes` (the
API's paths and headers, shared by the client and the CLI's no-op check). Import the module
you need; this package imports none of them, so the cheap one stays cheap.
"""
