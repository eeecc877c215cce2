"""The project's top layer: the root URLconf that mounts every app (docs/architecture.md).

It is the only module that imports every app's URLs, so it sits above all of
them; the kernel (``damane``) below imports none.
"""
