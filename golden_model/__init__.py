"""spikeforge's golden model: the bit-exact specification every other layer matches.

Pure numpy. :mod:`.fixedpoint` holds rounding and overflow, :mod:`.params`
the shared parameter dataclasses, :mod:`.lif` the neuron update and
:mod:`.lif_core` a whole core, in the order of the timestep contract.
"""

from .fixedpoint import Overflow, Rounding
from .params import CoreParams, LIFProfile, ResetMode
from .lif_core import CoreImage, CoreRun, CoreState, SynapseTable, simulate, step

__all__ = ["Overflow", "Rounding", "CoreParams", "LIFProfile", "ResetMode",
           "CoreImage", "CoreRun", "CoreState", "SynapseTable", "simulate", "step"]
