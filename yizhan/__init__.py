"""yizhan: monitoring for trade-union rest stations (驿站).

The parts live in their own top-level folders of the repository and are installed under this
package (see pyproject's package-dir): `yizhan.protocol` (the station wire protocol),
`yizhan.server`, `yizhan.gateway`, `yizhan.device_sim` and `yizhan.bench`. This folder holds the
`yizhan` command and the demo with its private broker and database launcher, apart from the
runtime server.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("yizhan")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
