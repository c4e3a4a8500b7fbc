"""A local NOMI look-alike for development and tests (never imported by deployed code).

from sandbox import SandboxServer, FaultConfig
with SandboxServer(api_key="test-key", port=0) as sb:
    sb.url, sb.state, sb.set_faults(FaultConfig(rate=0.2)), sb.reset()
"""

from sandbox.faults import FaultConfig
from sandbox.server import CampaignSeed, SandboxServer
from sandbox.state import SandboxState

__all__ = ["CampaignSeed", "FaultConfig", "SandboxServer", "SandboxState"]
