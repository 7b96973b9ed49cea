"""A simulated province behind the one-stop and DVC portal contracts.

from simulator import World, WorldConfig, SimulatorServer, FaultConfig
"""

from simulator.config import WorldConfig
from simulator.faults import FaultConfig
from simulator.server import SimulatorServer
from simulator.world import World

__all__ = ["FaultConfig", "SimulatorServer", "World", "WorldConfig"]
