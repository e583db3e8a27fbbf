"""Board tops and bitstream builds (iCEBreaker, ULX3S) driven by the YoWASP tools.

One module per board will hold its pin glue, PLL and host interface; the
build wrapper that parses nextpnr's report lives beside them.
"""

__all__ = []
