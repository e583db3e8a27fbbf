"""``SinglePortSynapses``: a core's synapse entries, target and weight packed in one word.

On an iCE40 UltraPlus the synapse table is the biggest memory by far and the
device's four 256 kbit SPRAMs (``SB_SPRAM256KA``, 16K × 16 bits, one port)
are otherwise unused, so a core can keep its synapses there. A single port
does one access per cycle; a core without a learning engine never writes a
synapse while it reads one (configuration waits until delivery is idle, and
debug reads wait for configuration), so one port costs it nothing.

Layout of a word: the weight in the low ``ceil(W / 4)`` nibbles, then the
target neuron and the delay minus one (``target | delay << neuron_bits``) in
the next nibbles. Writing one of the two fields leaves the other alone
(nibble write enables), as the two config regions are written separately.
Read data follows the address by one cycle, as a synchronous read port's does.

Elsewhere (simulation, other FPGAs) the same behaviour comes from one
``lib.memory.Memory`` with its read and write ports on one address.
"""

from amaranth import Cat, ClockSignal, Instance, Module, Mux, Signal, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["SinglePortSynapses", "check_spram_word", "SPRAM_DEPTH", "SPRAM_WIDTH"]

SPRAM_DEPTH = 16384
SPRAM_WIDTH = 16
SPRAM_BANKS = 4


def _nibbles(bits):
    return (bits + 3) // 4


def check_spram_word(target_bits, weight_bits):
    """Raise unless a synapse entry fits one 16-bit SPRAM word, fields nibble-aligned."""
    width = 4 * (_nibbles(weight_bits) + _nibbles(target_bits))
    if width > SPRAM_WIDTH:
        raise ValueError(
            f"a synapse entry needs {weight_bits} weight bits and {target_bits} target and "
            f"delay bits, {width} bits in whole nibbles; an SPRAM word holds {SPRAM_WIDTH}")


class SinglePortSynapses(wiring.Component):
    """``depth`` synapse entries of a ``target_bits`` field and a ``weight_shape`` weight.

    ``spram``: on an iCE40 UltraPlus platform, build the table from
    ``SB_SPRAM256KA`` blocks; the word then has to fit 16 bits.
    """

    def __init__(self, target_bits, weight_shape, depth, *, spram=False):
        self.weight_shape = weight_shape
        W = weight_shape.width
        self.target_offset = 4 * _nibbles(W)
        self.width = self.target_offset + 4 * _nibbles(target_bits)
        try:
            if spram:
                check_spram_word(target_bits, W)
            if spram and depth > SPRAM_DEPTH * SPRAM_BANKS:
                raise ValueError(f"n_synapses = {depth} needs more than the "
                                 f"{SPRAM_BANKS} SPRAMs of an iCE40 UltraPlus")
        except ValueError:
            self._MustUse__silence = True
            raise
        self.target_bits, self.depth, self.spram = target_bits, depth, spram
        super().__init__({
            "addr": In(range(depth)),           # read address
            "target": Out(target_bits),         # of the entry addressed one cycle before
            "weight": Out(weight_shape),
            "w_addr": In(range(depth)),
            "w_target": In(target_bits),
            "w_weight": In(weight_shape),
            "w_target_en": In(1),
            "w_weight_en": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        n_w = self.target_offset // 4
        n_t = (self.width - self.target_offset) // 4
        nibble_en = Cat(*([self.w_weight_en] * n_w), *([self.w_target_en] * n_t))
        writing = self.w_target_en | self.w_weight_en
        addr = Signal(range(self.depth))
        m.d.comb += addr.eq(Mux(writing, self.w_addr, self.addr))
        wdata = Signal(self.width)
        rdata = Signal(self.width)
        m.d.comb += [wdata[:self.weight_shape.width].eq(self.w_weight),
                     wdata[self.target_offset:self.target_offset + self.target_bits].eq(
                         self.w_target)]

        from amaranth.vendor import SiliconBluePlatform
        if self.spram and isinstance(platform, SiliconBluePlatform) and "UP" in platform.device:
            banks = (self.depth + SPRAM_DEPTH - 1) // SPRAM_DEPTH
            bank = addr[14:] if banks > 1 else 0
            bank_r = Signal(range(max(banks, 2)))
            m.d.sync += bank_r.eq(bank)
            outs = []
            for b in range(banks):
                out = Signal(SPRAM_WIDTH, name=f"spram_{b}_out")
                word_in = Signal(SPRAM_WIDTH, name=f"spram_{b}_in")
                m.d.comb += word_in.eq(wdata)
                mask = Signal(4, name=f"spram_{b}_mask")
                m.d.comb += mask.eq(nibble_en)
                m.submodules[f"spram_{b}"] = Instance(
                    "SB_SPRAM256KA",
                    i_ADDRESS=addr[:14], i_DATAIN=word_in, i_MASKWREN=mask,
                    i_WREN=writing & (bank == b), i_CHIPSELECT=1, i_CLOCK=ClockSignal(),
                    i_STANDBY=0, i_SLEEP=0, i_POWEROFF=1, o_DATAOUT=out)
                outs.append(out)
            with m.Switch(bank_r):
                for b, out in enumerate(outs):
                    with m.Case(b):
                        m.d.comb += rdata.eq(out)
        else:
            m.submodules.mem = mem = memory.Memory(shape=unsigned(self.width), depth=self.depth,
                                                   init=[])
            wr = mem.write_port(granularity=4)
            rd = mem.read_port()
            m.d.comb += [wr.addr.eq(addr), wr.data.eq(wdata), wr.en.eq(nibble_en),
                         rd.addr.eq(addr), rdata.eq(rd.data)]
        m.d.comb += [self.weight.eq(rdata[:self.weight_shape.width]),
                     self.target.eq(rdata[self.target_offset:
                                          self.target_offset + self.target_bits])]
        return m
