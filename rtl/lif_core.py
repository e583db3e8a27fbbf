"""``LIFCore``: a time-multiplexed current-based LIF core, bit-exact with
:mod:`golden_model.lif_core`.

The core has three pipelines that never run at the same time:

* **Delivery** (phase IDLE): an axon event reads the axon's CSR pointer
  (``start``, ``count``); a generator walks the synapse entries one per clock;
  each entry's weight is added to the dendritic accumulator slot
  ``(t + delay - 1) mod D`` of its target. The read-modify-write of the
  accumulator is one stage, and the read port is transparent to the write
  port, so back-to-back updates of one address need no stall: one SOP per
  clock, sustained, across axon boundaries too (the next pointer is fetched
  while the current axon is walked).
* **Update** (phase UPDATE, started by ``tick``): neurons are issued one per
  clock through a five-stage datapath that reads and clears the accumulator
  slot, decays, integrates, thresholds and resets, then writes the state back.
  Spikes go into a FIFO in front of ``spike_out``. A neuron is issued only
  when the FIFO has room for every neuron in flight, so backpressure stalls
  issue, never the datapath.
* **Access**: the ``config`` write port and the ``debug`` read port reach
  every memory and counter, between steps.

Memory map (``region``, ``addr``; values are two's complement where signed):

====  ===============  ========================  ===============================
code  region           addr                      data
====  ===============  ========================  ===============================
0     AXON_START       axon                      first synapse entry
1     AXON_COUNT       axon                      number of entries
2     SYN_TARGET       entry                     target [0:16], delay - 1 [16:24]
3     SYN_WEIGHT       entry                     weight
4     NEURON_PROFILE   neuron                    profile index
5     U                neuron                    synaptic current
6     V                neuron                    membrane voltage
7     REFRACTORY       neuron                    refractory counter
8     ACC              slot << neuron_bits | n   accumulator slot
9     PROFILE          profile << 4 | field      see :class:`ProfileField`
10    COUNTER          :class:`Counter`          32-bit counter (read only);
                       from ``LEARN_BASE`` up    learning registers and traces
====  ===============  ========================  ===============================

A core with ``CoreParams.learning`` also has the learning engine of
:mod:`rtl.learning`: it keeps each entry's plastic flag in ``SYN_TARGET``
bit 24, a three-factor core its eligibility in ``SYN_WEIGHT`` bits 16..31,
and the learning phase runs after the update, before the step ends.
"""

import enum
from types import SimpleNamespace

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, fifo, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden_model.params import CoreParams, NeuronModel, Rule, check_int
from . import fixedpoint as fxp
from .synapse_ram import SinglePortSynapses, check_spram_word
from .learning import (LEARN_BASE, LearnKind, LearnParam, clamp, learning_writes, lfsr_next,
                       round_shift, rule_registers, trace_decay)

__all__ = ["Region", "ProfileField", "IzhikevichField", "AdExField", "Counter", "ConfigWrite",
           "DebugRead", "LIFCore", "config_writes", "profile_fields", "profile_shapes",
           "signed_value", "weight_value",
           "axon_event_layout", "spike_event_layout", "DebugSignature", "CYCLE_COUNTERS"]


class Region(enum.IntEnum):
    AXON_START = 0
    AXON_COUNT = 1
    SYN_TARGET = 2
    SYN_WEIGHT = 3
    NEURON_PROFILE = 4
    U = 5
    V = 6
    REFRACTORY = 7
    ACC = 8
    PROFILE = 9
    COUNTER = 10


class ProfileField(enum.IntEnum):
    """Profile fields as the hardware stores them (effective values, computed by the loader)."""
    DU = 0          # du + du_offset, 0..4096
    DV = 1          # dv + dv_offset, 0..4096
    VTH = 2         # unsigned, S bits
    BIAS = 3        # bias_mant << bias_exp, signed S bits
    RESET = 4       # ResetMode
    V_RESET = 5     # signed S bits
    REFRACTORY = 6  # R bits
    WEIGHT_EXP = 7  # 0..S-1
    FLAGS = 8       # bit 0: floor rounding, bit 1: u saturates, bit 2: v saturates


class IzhikevichField(enum.IntEnum):
    """Profile fields of an Izhikevich core (:class:`golden_model.izhikevich.IzhikevichProfile`)."""
    A = 0           # 16-bit signed fraction
    B = 1
    C = 2           # signed S bits
    D = 3
    V_PEAK = 4
    BIAS = 5
    WEIGHT_EXP = 6  # 0..S-1


class AdExField(enum.IntEnum):
    """Profile fields of an AdEx core (:class:`golden_model.adex.AdExProfile`); a
    coefficient is ``m`` in bits 0..15 and its shift ``s`` in bits 16..21."""
    EL = 0          # signed S bits
    VT = 1
    VR = 2
    V_PEAK = 3
    B = 4
    KL = 5          # coefficients
    KX = 6
    KE = 7
    KW = 8
    KA = 9
    BIAS = 10       # signed S bits
    WEIGHT_EXP = 11


#: Each model's bias and weight-exponent fields.
BIAS_FIELD = {NeuronModel.LIF: ProfileField.BIAS, NeuronModel.IZHIKEVICH: IzhikevichField.BIAS,
              NeuronModel.ADEX: AdExField.BIAS}
WEIGHT_EXP_FIELD = {NeuronModel.LIF: ProfileField.WEIGHT_EXP,
                    NeuronModel.IZHIKEVICH: IzhikevichField.WEIGHT_EXP,
                    NeuronModel.ADEX: AdExField.WEIGHT_EXP}


def profile_shapes(p, deep_pipeline=False):
    """``{field: shape}`` of the profile memories of a core with ``CoreParams`` ``p``."""
    S, R = p.state_bits, p.refractory_bits
    if p.neuron_model is NeuronModel.IZHIKEVICH:
        shapes = {f: signed(S) for f in IzhikevichField}
        shapes.update({IzhikevichField.A: signed(16), IzhikevichField.B: signed(16),
                       IzhikevichField.WEIGHT_EXP: unsigned(5)})
        return shapes
    if p.neuron_model is NeuronModel.ADEX:
        shapes = {f: signed(S) for f in AdExField}
        shapes.update({f: unsigned(22) for f in (AdExField.KL, AdExField.KX, AdExField.KE,
                                                 AdExField.KW, AdExField.KA)})
        shapes[AdExField.WEIGHT_EXP] = unsigned(5)
        return shapes
    return {
        # With deep_pipeline the decays are kept as their factors, 4096 - d, 14 bits:
        # the subtraction in front of the multiplier missed 100 MHz on an ECP5.
        ProfileField.DU: unsigned(14 if deep_pipeline else 13),
        ProfileField.DV: unsigned(14 if deep_pipeline else 13),
        ProfileField.VTH: unsigned(S), ProfileField.BIAS: signed(S),
        ProfileField.RESET: unsigned(2), ProfileField.V_RESET: signed(S),
        ProfileField.REFRACTORY: unsigned(R), ProfileField.WEIGHT_EXP: unsigned(5),
        ProfileField.FLAGS: unsigned(3),
    }


def model_unit(model, state_bits):
    """The step unit of a core of ``model`` neurons."""
    from .adex import AdExUnit
    from .izhikevich import IzhikevichUnit
    return IzhikevichUnit(state_bits) if model is NeuronModel.IZHIKEVICH else \
        AdExUnit(state_bits)


def unit_payload(model, payload, pf, v, second, current):
    """Assignments of a step unit's input: state ``v`` and ``second`` (``u`` or ``w``),
    the step's ``current`` and the profile fields ``pf`` (memory outputs)."""
    if model is NeuronModel.IZHIKEVICH:
        F = IzhikevichField
        return [payload.v.eq(v), payload.u.eq(second), payload.i.eq(current),
                payload.a.eq(pf[F.A]), payload.b.eq(pf[F.B]), payload.c.eq(pf[F.C]),
                payload.d.eq(pf[F.D]), payload.v_peak.eq(pf[F.V_PEAK])]
    F = AdExField
    out = [payload.v.eq(v), payload.w.eq(second), payload.i.eq(current),
           payload.el.eq(pf[F.EL]), payload.vt.eq(pf[F.VT]), payload.vr.eq(pf[F.VR]),
           payload.v_peak.eq(pf[F.V_PEAK]), payload.b.eq(pf[F.B])]
    for field, name in ((F.KL, "kl"), (F.KX, "kx"), (F.KE, "ke"), (F.KW, "kw"), (F.KA, "ka")):
        out += [getattr(payload, name).m.eq(pf[field][:16]),
                getattr(payload, name).s.eq(pf[field][16:22])]
    return out


class Counter(enum.IntEnum):
    TIMESTEP = 0
    SOPS = 1
    SPIKES = 2
    BUSY_CYCLES = 3
    IDLE_CYCLES = 4
    EVENTS = 5
    LEARN_CYCLES = 6     # cycles in the learning phase
    LEARN_UPDATES = 7    # plastic synapses the learning engine rewrote


#: The counters that ``cycle_counters=False`` leaves out.
CYCLE_COUNTERS = (Counter.BUSY_CYCLES, Counter.IDLE_CYCLES)

REGION_BITS = 4
ADDR_BITS = 16
DATA_BITS = 32
FIFO_DEPTH = 16
#: Update stages that can hold a neuron whose spike is not yet in the FIFO (one
#: fewer without ``deep_pipeline``).
UPDATE_STAGES = 7

ConfigWrite = data.StructLayout({"region": REGION_BITS, "addr": ADDR_BITS, "data": DATA_BITS})
DebugRead = data.StructLayout({"region": REGION_BITS, "addr": ADDR_BITS})


def axon_event_layout(params):
    return data.StructLayout({"axon": params.axon_bits})


def spike_event_layout(params):
    return data.StructLayout({"neuron": params.neuron_bits})


class DebugSignature(wiring.Signature):
    """Read request stream in, 32-bit response stream out (from the core's view)."""
    def __init__(self):
        super().__init__({
            "req": In(stream.Signature(DebugRead)),
            "resp": Out(stream.Signature(DATA_BITS)),
        })


class LIFCore(wiring.Component):
    """A time-multiplexed LIF core with run-time configuration.

    Parameters
    ----------
    params : CoreParams
        Sizes and widths, fixed at elaboration.
    memory_budget_bits : int or None
        If given, elaboration is refused when the core's memories need more bits.
    spike_fifo_depth : int
        Depth of the output spike FIFO (default 16). With at least
        ``n_neurons + 1`` entries the update never waits for ``spike_out``,
        which is what keeps a mesh of cores free of deadlock.
    cycle_counters : bool
        Count busy and idle cycles (``Counter.BUSY_CYCLES``, ``IDLE_CYCLES``;
        default True). Without them the core is two 32-bit counters smaller and
        those two read as 0.
    deep_pipeline : bool
        Default False. When True, the neuron update has a seventh stage, so that
        rounding and adding take a clock each; a debug read registers every
        memory's output before picking one, a clock later; a config write is made
        a clock after it is taken; and the decays are stored as their factors.
        For a 256-neuron core with 16-bit state, yosys counts 277 registers and
        47 LUTs more. It is for an ECP5, whose block RAM outputs are slow.
        Results are the same either way.

    Ports
    -----
    axon_in : In(stream of AxonEvent)
        Input AER events for the current step.
    tick : In(stream, no payload)
        Ends delivery for the current step and runs the neuron update.
        Accepted once every offered and accepted event has been delivered.
    spike_out : Out(stream of SpikeEvent)
        Output spikes in neuron order, with backpressure.
    config : In(stream of ConfigWrite)
        Writes any memory between steps.
    debug : DebugSignature
        Reads any memory or counter between steps.
    busy : Out(1)
        High while any work is pending: the clock may be gated when low.
    timestep : Out(32)
        Number of completed steps.
    """

    def __init__(self, params, *, memory_budget_bits=None, spike_fifo_depth=FIFO_DEPTH,
                 synapse_ram="dual", cycle_counters=True, deep_pipeline=False):
        try:
            if not isinstance(params, CoreParams):
                raise TypeError(f"params must be a CoreParams, not {params!r}")
            self.params = p = params
            if synapse_ram not in ("dual", "spram"):
                raise ValueError(f"synapse_ram must be 'dual' or 'spram', not {synapse_ram!r}")
            if synapse_ram == "spram" and p.learning is not None and \
                    p.learning.rule is not Rule.NONE:
                raise ValueError("synapse_ram = 'spram' has one port, and a learning engine "
                                 "writes synapses while it reads them; use 'dual'")
            if synapse_ram == "spram":
                check_spram_word(p.neuron_bits + p.delay_bits, p.weight_bits)
            self.synapse_ram = synapse_ram
            if not isinstance(cycle_counters, bool):
                raise TypeError(f"cycle_counters must be True or False, not {cycle_counters!r}")
            self.cycle_counters = cycle_counters
            if not isinstance(deep_pipeline, bool):
                raise TypeError(f"deep_pipeline must be True or False, not "
                                f"{deep_pipeline!r}")
            self.deep_pipeline = deep_pipeline
            self.spike_fifo_depth = check_int("spike_fifo_depth", spike_fifo_depth,
                                              UPDATE_STAGES + 1, 8192)
            self._check_fits(memory_budget_bits)
        except (TypeError, ValueError):
            # A rejected core was never meant to be elaborated; don't warn that it wasn't.
            self._MustUse__silence = True
            raise
        super().__init__({
            "axon_in": In(stream.Signature(axon_event_layout(p))),
            "tick": In(stream.Signature(0)),
            "spike_out": Out(stream.Signature(spike_event_layout(p))),
            "config": In(stream.Signature(ConfigWrite)),
            "debug": Out(DebugSignature()),
            "busy": Out(1),
            "timestep": Out(32),
        })

    @staticmethod
    def memory_widths(p):
        """``{region: (width, depth)}`` of every memory a core with ``CoreParams`` ``p`` holds."""
        S = p.state_bits
        spec = p.learning
        learns = spec is not None and spec.rule is not Rule.NONE
        widths = {
            Region.AXON_START: (p.synapse_bits, p.n_axons),
            Region.AXON_COUNT: (p.count_bits, p.n_axons),
            Region.SYN_TARGET: (p.neuron_bits + p.delay_bits + learns, p.n_synapses),
            Region.SYN_WEIGHT: (p.weight_bits, p.n_synapses),
            Region.NEURON_PROFILE: (p.profile_bits, p.n_neurons),
            Region.U: (S, p.n_neurons),
            Region.V: (S, p.n_neurons),
            Region.REFRACTORY: (p.refractory_bits, p.n_neurons),
            Region.ACC: (p.acc_bits, p.max_delay << p.neuron_bits),
            Region.PROFILE: (sum(shape.width for shape in profile_shapes(p).values()),
                             p.n_profiles),
        }
        if learns:
            widths["pre"] = (1, p.n_axons)
            widths["post"] = (1, p.n_neurons)
        if spec is not None and spec.rule in (Rule.STDP, Rule.THREE_FACTOR):
            widths["x"] = (spec.trace_bits, p.n_axons)
            widths["y"] = (spec.trace_bits, p.n_neurons)
        if spec is not None and spec.rule is Rule.THREE_FACTOR:
            widths["eligibility"] = (spec.eligibility_bits, p.n_synapses)
        if spec is not None and spec.rule is Rule.SDSP:
            widths["calcium"] = (spec.calcium_bits, p.n_neurons)
        if spec is not None and spec.homeostasis:
            widths["theta"] = (spec.theta_bits, p.n_neurons)
        return widths

    def _check_fits(self, budget):
        p = self.params
        acc_depth = p.max_delay << p.neuron_bits
        if acc_depth > 1 << ADDR_BITS:
            raise ValueError(
                f"max_delay × n_neurons needs {acc_depth} accumulator slots "
                f"({p.max_delay} × {1 << p.neuron_bits}), more than the "
                f"{1 << ADDR_BITS} a {ADDR_BITS}-bit config address reaches")
        if p.n_axons > 1 << ADDR_BITS or p.n_synapses > 1 << ADDR_BITS:
            raise ValueError("n_axons and n_synapses must fit a 16-bit config address")
        if budget is not None:
            total = sum(w * d for w, d in self.memory_widths(p).values())
            if total > budget:
                raise ValueError(f"the core's memories need {total} bits, more than "
                                 f"memory_budget_bits = {budget}")

    def elaborate(self, platform):
        p = self.params
        S, R = p.state_bits, p.refractory_bits
        NB, DB, PB = p.neuron_bits, p.delay_bits, p.profile_bits
        spec = p.learning
        rule = Rule.NONE if spec is None else spec.rule
        learns = rule is not Rule.NONE          # a scan and a trace pass after the update
        homeo = spec is not None and spec.homeostasis
        three = rule is Rule.THREE_FACTOR
        sdsp = rule is Rule.SDSP
        traces = rule in (Rule.STDP, Rule.THREE_FACTOR)
        m = Module()

        # ---- memories ---------------------------------------------------------------
        def mem(name, shape, depth):
            m.submodules[name] = mm = memory.Memory(shape=shape, depth=depth, init=[])
            return mm

        w_start = p.synapse_bits
        axon_start = mem("axon_start", unsigned(w_start), p.n_axons)
        axon_count = mem("axon_count", unsigned(p.count_bits), p.n_axons)
        weight_shape = signed(p.weight_bits) if p.weight_signed else unsigned(p.weight_bits)
        single_port = self.synapse_ram == "spram"
        if not single_port:
            syn_target = mem("syn_target", unsigned(NB + DB + learns), p.n_synapses)
            syn_weight = mem("syn_weight", weight_shape, p.n_synapses)
        neuron_profile = mem("neuron_profile", unsigned(PB), p.n_neurons)
        mem_u = mem("mem_u", signed(S), p.n_neurons)
        mem_v = mem("mem_v", signed(S), p.n_neurons)
        mem_ref = mem("mem_ref", unsigned(R), p.n_neurons)
        acc = mem("acc", signed(p.acc_bits), p.max_delay << NB)
        lif = p.neuron_model is NeuronModel.LIF
        prof_shapes = profile_shapes(p, self.deep_pipeline)
        prof = {f: mem(f"profile_{f.name.lower()}", shape, p.n_profiles)
                for f, shape in prof_shapes.items()}

        wr = {}
        for region, mm in ((Region.AXON_START, axon_start), (Region.AXON_COUNT, axon_count),
                           (Region.NEURON_PROFILE, neuron_profile), (Region.U, mem_u),
                           (Region.V, mem_v), (Region.REFRACTORY, mem_ref), (Region.ACC, acc)):
            wr[region] = mm.write_port()
        prof_wr = {f: mm.write_port() for f, mm in prof.items()}
        rd_start = axon_start.read_port()
        rd_count = axon_count.read_port()
        if single_port:
            # Port-shaped views of the packed single-port table, so the pipeline below reads
            # the same either way.
            m.submodules.synapses = syn = SinglePortSynapses(NB + DB, weight_shape,
                                                             p.n_synapses, spram=True)
            rd_target = SimpleNamespace(addr=syn.addr, data=syn.target)
            rd_weight = SimpleNamespace(addr=syn.addr, data=syn.weight)
            wr[Region.SYN_TARGET] = SimpleNamespace(addr=syn.w_addr, data=syn.w_target,
                                                    en=syn.w_target_en)
            wr[Region.SYN_WEIGHT] = SimpleNamespace(addr=syn.w_addr, data=syn.w_weight,
                                                    en=syn.w_weight_en)
        else:
            wr[Region.SYN_TARGET] = syn_target.write_port()
            wr[Region.SYN_WEIGHT] = syn_weight.write_port()
            rd_target = syn_target.read_port()
            rd_weight = syn_weight.read_port()
        rd_pidx = neuron_profile.read_port()
        rd_u, rd_v, rd_ref = mem_u.read_port(), mem_v.read_port(), mem_ref.read_port()
        if self.deep_pipeline:
            # These two are LUT RAM, whose read of a deep memory is a mux tree: the debug
            # port gets read ports of its own, so the update's address is a bare register.
            dbg_pidx, dbg_ref = neuron_profile.read_port(), mem_ref.read_port()
        else:
            dbg_pidx, dbg_ref = rd_pidx, rd_ref
        # Transparent: a delivery read in the same cycle as the write of the previous SOP
        # to the same slot sees the new sum, so the RMW needs neither stall nor forwarding mux.
        rd_acc = acc.read_port()
        prof_rd = {f: mm.read_port() for f, mm in prof.items()}

        # ---- learning memories and registers ----------------------------------------
        A, N = p.n_axons, p.n_neurons
        regs = {}
        if spec is not None:
            regs = {f: Signal(signed(w) if sgn else unsigned(w), name=f"learn_{f.name.lower()}")
                    for f, (w, sgn) in rule_registers(spec, S).items()}
        rule_en = regs[LearnParam.ENABLE][0] if spec is not None else Const(0)
        lmem = {}
        if learns:
            lmem["pre"] = mem("learn_pre", unsigned(1), A)
            lmem["post"] = mem("learn_post", unsigned(1), N)
        if traces:
            TB = spec.trace_bits
            lmem[LearnKind.X] = mem("learn_x", unsigned(TB), A)
            lmem[LearnKind.Y] = mem("learn_y", unsigned(TB), N)
        if three:
            EB = spec.eligibility_bits
            lmem["elig"] = mem("learn_elig", signed(EB), p.n_synapses)
        if sdsp:
            CB = spec.calcium_bits
            lmem[LearnKind.CALCIUM] = mem("learn_ca", unsigned(CB), N)
        if homeo:
            HB = spec.theta_bits
            lmem[LearnKind.THETA] = mem("learn_theta", unsigned(HB), N)
        lrd = {k: mm.read_port() for k, mm in lmem.items()}
        lwr = {k: mm.write_port() for k, mm in lmem.items()}

        # ---- control state ----------------------------------------------------------
        t_slot = Signal(range(p.max_delay))
        timestep = Signal(32)
        m.d.comb += self.timestep.eq(timestep)
        counters = {c: Signal(32, name=f"count_{c.name.lower()}") for c in Counter
                    if self.cycle_counters or c not in CYCLE_COUNTERS}
        m.d.comb += counters[Counter.TIMESTEP].eq(timestep)

        in_update = Signal()
        in_debug = Signal()     # a debug read is waiting for its data or its response
        in_learn = Signal()     # the learning phase: a scan, then a trace pass
        in_scan = Signal()
        in_trace = Signal()
        M = max(A, N)
        trace_i = Signal(range(M + 1))
        clear_only = Signal()   # the rule is off: the trace pass only clears pre flags
        pre_dirty = Signal()    # some pre flag is set
        idle_phase = ~in_update & ~in_debug & ~in_learn

        # ---- delivery pipeline ------------------------------------------------------
        p_valid = Signal()
        g_addr = Signal(p.synapse_bits + 1)
        g_rem = Signal(p.count_bits)
        s1_valid = Signal()
        s2_valid = Signal()
        s2_addr = Signal(range(p.max_delay << NB))
        s2_weight = Signal(weight_shape)
        # (g_rem != 0) and (g_rem <= 1), kept in registers beside g_rem: the walk's handshakes
        # and the config port's ready read them every clock.
        g_more, g_le1 = Signal(), Signal(init=1)
        s3_valid = Signal()
        s1b_valid = Signal()
        delivery_empty = ~p_valid & ~g_more & ~s1_valid & ~s1b_valid & ~s2_valid & ~s3_valid

        cfg = self.config
        dbg = self.debug
        cfg_go = Signal()
        dbg_go = Signal()
        # The write a config request makes. With deep_pipeline it is made a clock after the
        # request is taken, from registers: the write enables reach memories all over an
        # ECP5 when many cores share it. Reads, events and steps wait for it.
        w_go, w = Signal(), Signal(ConfigWrite)
        write_wait = w_go if self.deep_pipeline else Const(0)
        if self.deep_pipeline:
            m.d.sync += w_go.eq(cfg_go)
            # Taken only on this core's own writes: the cores of a chip see the same
            # payload, and registers that always took it would be merged into one.
            with m.If(cfg_go):
                m.d.sync += w.eq(cfg.payload)
        else:
            m.d.comb += [w_go.eq(cfg_go), w.eq(cfg.payload)]
        m.d.comb += [
            cfg.ready.eq(idle_phase & delivery_empty),
            cfg_go.eq(cfg.valid & cfg.ready),
            dbg.req.ready.eq(idle_phase & delivery_empty & ~cfg.valid & ~write_wait),
            dbg_go.eq(dbg.req.valid & dbg.req.ready),
        ]

        g_load = Signal()
        p_ready = Signal()
        # The learning scan walks every axon's entries with the same walker.
        scan_axon = Signal(range(A + 1))
        scan_go = Signal()
        m.d.comb += [
            g_load.eq(p_valid & g_le1),
            p_ready.eq(~p_valid | g_load),
            scan_go.eq(in_scan & p_ready & (scan_axon < A)),
            # Config and debug accesses go first, so they are never reordered with events.
            self.axon_in.ready.eq(idle_phase & p_ready & ~cfg.valid & ~dbg.req.valid &
                                  ~write_wait),
            rd_start.en.eq(p_ready),
            rd_count.en.eq(p_ready),
            # Read addresses follow the requests, not the handshakes: an event is only taken
            # when no debug request waits, and a debug read only when the walk is empty.
            rd_start.addr.eq(Mux(in_scan, scan_axon, Mux(dbg.req.valid, dbg.req.payload.addr,
                                                         self.axon_in.payload.axon))),
            rd_count.addr.eq(rd_start.addr),
        ]
        event_go = self.axon_in.valid & self.axon_in.ready
        with m.If(event_go | scan_go):
            m.d.sync += p_valid.eq(1)
        with m.Elif(g_load):
            m.d.sync += p_valid.eq(0)
        with m.If(event_go):
            m.d.sync += counters[Counter.EVENTS].eq(counters[Counter.EVENTS] + 1)
        with m.If(scan_go):
            m.d.sync += scan_axon.eq(scan_axon + 1)

        issue = Signal()
        m.d.comb += issue.eq(g_more)
        m.d.comb += rd_target.addr.eq(Mux(issue, g_addr, dbg.req.payload.addr))
        if not single_port:
            m.d.comb += rd_weight.addr.eq(rd_target.addr)
        with m.If(g_load):
            m.d.sync += [g_addr.eq(rd_start.data), g_rem.eq(rd_count.data),
                         g_more.eq(rd_count.data != 0), g_le1.eq(rd_count.data <= 1)]
        with m.Elif(issue):
            m.d.sync += [g_addr.eq(g_addr + 1), g_rem.eq(g_rem - 1),
                         g_more.eq(g_rem != 1), g_le1.eq(g_rem <= 2)]
        m.d.sync += s1_valid.eq(issue)

        # S1: synapse entry is here; registered, since a block RAM's output is slow.
        s1_target = rd_target.data[:NB]
        s1b_target, s1b_delay_m1 = Signal(NB), Signal(max(DB, 1))
        s1b_weight = Signal(weight_shape)
        m.d.sync += [s1b_valid.eq(s1_valid & ~in_learn), s1b_target.eq(s1_target),
                     s1b_delay_m1.eq(rd_target.data[NB:NB + DB]), s1b_weight.eq(rd_weight.data)]
        # S1b: address the accumulator slot.
        slot_sum = Signal(range(2 * p.max_delay))
        s1_slot = Signal(range(p.max_delay))
        m.d.comb += [
            slot_sum.eq(t_slot + (s1b_delay_m1 if DB else 0)),
            s1_slot.eq(Mux(slot_sum >= p.max_delay, slot_sum - p.max_delay, slot_sum)),
        ]
        s1_acc_addr = Cat(s1b_target, s1_slot)
        m.d.sync += [s2_valid.eq(s1b_valid), s2_addr.eq(s1_acc_addr), s2_weight.eq(s1b_weight)]

        # S2: the slot's value is here; registered before the add, since a block RAM's
        # output is slow. The two entries ahead wrote their slots after this entry's read
        # was issued (the one in S3 writes now, the one before it wrote in the read's own
        # clock): when either wrote this slot, its sum, the newer first, is the value.
        # S3: add and write back. acc_bits wraps, which keeps sums order-free.
        s3_addr, s4_addr = Signal.like(s2_addr), Signal.like(s2_addr)
        s3_weight = Signal(weight_shape)
        s3_old = Signal(signed(p.acc_bits))
        acc_sum, s4_sum = Signal(signed(p.acc_bits)), Signal(signed(p.acc_bits))
        s4_valid = Signal()
        m.d.comb += acc_sum.eq(s3_old + s3_weight)
        m.d.sync += [s3_valid.eq(s2_valid), s3_addr.eq(s2_addr), s3_weight.eq(s2_weight),
                     s4_valid.eq(s3_valid), s4_addr.eq(s3_addr), s4_sum.eq(acc_sum),
                     s3_old.eq(Mux(s3_valid & (s3_addr == s2_addr), acc_sum,
                                   Mux(s4_valid & (s4_addr == s2_addr), s4_sum,
                                       rd_acc.data)))]
        with m.If(s3_valid):
            m.d.sync += counters[Counter.SOPS].eq(counters[Counter.SOPS] + 1)

        # ---- learning scan ----------------------------------------------------------
        # L1 is the walker's S1: the entry is here; address the target's neuron memories.
        # L2: decay the traces.  L3: multiply.  L4: round (drawing from the LFSR in scan
        # order), apply the rule and clamp.  L5: the reward term; write back.
        scan_busy = Signal()
        if learns:
            r = regs
            g_x = Signal(TB) if traces else None
            g_pre = Signal()
            s1_e = Signal(p.synapse_bits)
            s1_pre = Signal()
            m.d.comb += [lrd["pre"].addr.eq(Mux(in_trace, trace_i, rd_start.addr)),
                         lrd["pre"].en.eq(p_ready | in_trace)]
            if traces:
                m.d.comb += [lrd[LearnKind.X].addr.eq(Mux(in_trace, trace_i, rd_start.addr)),
                             lrd[LearnKind.X].en.eq(p_ready | in_trace)]
            with m.If(g_load):
                m.d.sync += g_pre.eq(lrd["pre"].data)
                if traces:
                    m.d.sync += g_x.eq(lrd[LearnKind.X].data)
            with m.If(issue):
                m.d.sync += [s1_e.eq(g_addr), s1_pre.eq(g_pre)]
            if traces:
                s1_x = Signal(TB)
                with m.If(issue):
                    m.d.sync += s1_x.eq(g_x)
            neuron_kinds = ["post"] + [k for k in (LearnKind.Y, LearnKind.CALCIUM) if k in lrd]
            for k in neuron_kinds:
                m.d.comb += lrd[k].addr.eq(Mux(dbg_go, dbg.req.payload.addr,
                                               Mux(in_trace, trace_i, s1_target)))

            l2_valid, l3_valid, l4_valid, l5_valid = Signal(), Signal(), Signal(), Signal()
            wshape = signed(10)
            l2 = dict(e=Signal(p.synapse_bits), pre=Signal(), w=Signal(wshape), plastic=Signal())
            m.d.sync += [l2_valid.eq(s1_valid & in_learn), l2["e"].eq(s1_e), l2["pre"].eq(s1_pre),
                         l2["w"].eq(rd_weight.data), l2["plastic"].eq(rd_target.data[NB + DB])]
            if traces:
                l2["x"] = Signal(TB)
                m.d.sync += l2["x"].eq(s1_x)
            if three:
                m.d.comb += lrd["elig"].addr.eq(rd_target.addr)
                l2["el"] = Signal(signed(EB))
                m.d.sync += l2["el"].eq(lrd["elig"].data)

            # L2: neuron data is here.
            l3 = {k: Signal(v.shape(), name=f"l3_{k}") for k, v in l2.items() if k != "x"}
            l3["post"] = Signal()
            m.d.sync += [l3_valid.eq(l2_valid)] + [l3[k].eq(l2[k]) for k in l3 if k in l2]
            m.d.sync += l3["post"].eq(lrd["post"].data)
            multiply = r[LearnParam.FLAGS][2] if traces else None
            if traces:
                l3["xd"], l3["yd"] = Signal(TB), Signal(TB)
                m.d.sync += [
                    l3["xd"].eq(trace_decay(l2["x"], r[LearnParam.X_DECAY], multiply, TB)),
                    l3["yd"].eq(trace_decay(lrd[LearnKind.Y].data, r[LearnParam.Y_DECAY],
                                            multiply, TB)),
                ]
            if sdsp:
                l3["ca"], l3["v"] = Signal(CB), Signal(signed(S))
                m.d.sync += [l3["ca"].eq(lrd[LearnKind.CALCIUM].data), l3["v"].eq(rd_v.data)]

            # L3: products.
            l4 = {k: Signal(v.shape(), name=f"l4_{k}") for k, v in l3.items()
                  if k not in ("xd", "yd")}
            m.d.sync += [l4_valid.eq(l3_valid)] + [l4[k].eq(l3[k]) for k in l4]
            if traces:
                l4["pm"], l4["pp"] = Signal(signed(26)), Signal(signed(26))
                m.d.sync += [l4["pm"].eq(r[LearnParam.A_MINUS] * l3["yd"]),
                             l4["pp"].eq(r[LearnParam.A_PLUS] * l3["xd"])]

            # L4: the rule.
            l5_w = Signal(wshape)
            lo, hi = r[LearnParam.W_MIN], r[LearnParam.W_MAX]
            if traces:
                stoch = r[LearnParam.FLAGS][0]
                lfsr = r[LearnParam.LFSR]
                r1 = Signal(16)
                r2 = Signal(16)
                r3 = Signal(16)
                m.d.comb += [r1.eq(lfsr_next(lfsr)), r2.eq(lfsr_next(r1)), r3.eq(lfsr_next(r2))]
                act = l4_valid & l4["plastic"]
                d_pre, d_post = act & l4["pre"], act & l4["post"]
                d_rew = act & (r[LearnParam.REWARD] != 0) if three else Const(0)
                r_pot = Mux(d_pre, r2, r1)
                n_draws = Signal(2)
                m.d.comb += n_draws.eq(d_pre + d_post + d_rew)
                with m.If(stoch):
                    with m.Switch(n_draws):
                        for k, value in ((1, r1), (2, r2), (3, r3)):
                            with m.Case(k):
                                m.d.sync += lfsr.eq(value)
                shift = r[LearnParam.SHIFT]
                dep = round_shift(l4["pm"], shift, stoch, r1)
                pot = round_shift(l4["pp"], shift, stoch, r_pot)
                if not three:
                    w1 = Signal(signed(28))
                    w2 = Signal(signed(28))
                    m.d.comb += [w1.eq(Mux(l4["pre"], clamp(l4["w"] - dep, lo, hi), l4["w"])),
                                 w2.eq(Mux(l4["post"], clamp(w1 + pot, lo, hi), w1))]
                    m.d.sync += l5_w.eq(w2)
                else:
                    el = l4["el"]
                    bias = Mux(el[-1], ((Const(1, 17) << r[LearnParam.E_DECAY]) - 1)[:16], 0)
                    el0, el1, el2 = Signal(signed(EB + 1)), Signal(signed(EB)), Signal(signed(EB))
                    m.d.comb += [
                        el0.eq(el - ((el + bias) >> r[LearnParam.E_DECAY])),
                        el1.eq(Mux(l4["pre"], fxp.saturate(el0 - dep, EB), el0)),
                        el2.eq(Mux(l4["post"], fxp.saturate(el1 + pot, EB), el1)),
                    ]
                    l5_el, l5_r, l5_rew = Signal(signed(EB)), Signal(16), Signal()
                    m.d.sync += [l5_w.eq(l4["w"]), l5_el.eq(el2), l5_rew.eq(d_rew),
                                 l5_r.eq(Mux(n_draws == 1, r1, Mux(n_draws == 2, r2, r3)))]
            if sdsp:
                drift_now = Signal()
                up = Signal()
                down = Signal()
                ca = l4["ca"]
                above = l4["v"] >= r[LearnParam.THETA_M]
                m.d.comb += [
                    up.eq(l4["pre"] & above & (ca >= r[LearnParam.THETA_1]) &
                          (ca < r[LearnParam.THETA_3])),
                    down.eq(l4["pre"] & ~above & (ca >= r[LearnParam.THETA_1]) &
                            (ca < r[LearnParam.THETA_2])),
                ]
                w1 = Signal(signed(12))
                m.d.comb += w1.eq(l4["w"] + up - down)
                mid = lo + hi
                step = Mux(drift_now, Mux(2 * w1 > mid, 1, Mux(2 * w1 < mid, -1, 0)), 0)
                m.d.sync += l5_w.eq(clamp(w1 + step, lo, hi))
            l5_e, l5_plastic = Signal(p.synapse_bits), Signal()
            m.d.sync += [l5_valid.eq(l4_valid), l5_e.eq(l4["e"]), l5_plastic.eq(l4["plastic"])]

            # L5: write back.
            l5_final = Signal(wshape)
            if three:
                prod = Signal(signed(26))
                m.d.comb += prod.eq(r[LearnParam.REWARD] * l5_el)
                m.d.comb += l5_final.eq(Mux(l5_rew, clamp(
                    l5_w + round_shift(prod, r[LearnParam.R_SHIFT], stoch, l5_r), lo, hi), l5_w))
            else:
                m.d.comb += l5_final.eq(l5_w)
            l5_write = l5_valid & l5_plastic
            with m.If(l5_write):
                m.d.sync += counters[Counter.LEARN_UPDATES].eq(counters[Counter.LEARN_UPDATES] + 1)
            m.d.comb += scan_busy.eq(l2_valid | l3_valid | l4_valid | l5_valid)

        # ---- update pipeline --------------------------------------------------------
        spikes = fifo.SyncFIFOBuffered(width=NB, depth=self.spike_fifo_depth)
        m.submodules.spikes = spikes
        m.d.comb += [
            self.spike_out.valid.eq(spikes.r_rdy),
            self.spike_out.payload.neuron.eq(spikes.r_data),
            spikes.r_en.eq(self.spike_out.ready),
        ]

        n_issue = Signal(range(p.n_neurons + 1))
        # A model core's U2 hands the neuron to its step unit.
        n_stages = (UPDATE_STAGES if self.deep_pipeline else UPDATE_STAGES - 1) if lif else 2
        model_busy = Signal()       # a model core's neuron is in U1, U2 or the unit
        u_valid = Signal(n_stages)       # u_valid[k]: stage k+1 holds a neuron
        in_flight = Signal(range(n_stages + 1))
        m.d.comb += in_flight.eq(sum(u_valid[k] for k in range(n_stages)))
        u0 = Signal()
        if self.deep_pipeline:
            # The FIFO's room, from the last clock: level + in_flight grows by at most the
            # one neuron issued then, so one more of margin keeps it safe, and the sum is
            # off the issue path.
            room = Signal()
            m.d.sync += room.eq(spikes.level + in_flight + 1 < self.spike_fifo_depth)
            m.d.comb += u0.eq(in_update & (n_issue < p.n_neurons) & room & ~model_busy)
        else:
            m.d.comb += u0.eq(in_update & (n_issue < p.n_neurons) & ~model_busy &
                              (spikes.level + in_flight < self.spike_fifo_depth))
        m.d.sync += u_valid.eq(Cat(u0, u_valid[:-1]))

        # U1: state, profile index and accumulator slot are here; fetch the profile.
        n1 = Signal(NB)
        m.d.sync += n1.eq(n_issue)
        u1_acc = rd_acc.data
        # U2: profile is here; multiply for the decays.
        n2, u2_u, u2_v, u2_ref = Signal(NB), Signal(signed(S)), Signal(signed(S)), Signal(R)
        th = [Signal(HB, name=f"u{k}_theta") for k in range(8)] if homeo else None
        if homeo:
            m.d.sync += [th[2].eq(lrd[LearnKind.THETA].data)]
            m.d.sync += [th[k + 1].eq(th[k]) for k in (2, 4, 5, 6)]
        u2_acc = Signal(signed(p.acc_bits))
        m.d.sync += [n2.eq(n1), u2_u.eq(rd_u.data), u2_v.eq(rd_v.data), u2_ref.eq(rd_ref.data),
                     u2_acc.eq(u1_acc)]
        if lif:
            # U3: round the products; u' and the partial voltage sum.
            n3, u3_ref = Signal(NB), Signal(R)
            # The input, shifted by the profile's weight exponent here, so U3 only adds.
            u_in = Signal(signed(p.acc_bits + S))
            u3_pu = Signal(signed(S + 14))
            u3_pv = Signal(signed(S + 14))
            u3_v = Signal(signed(S))
            u3_prof = {f: Signal(shape, name=f"u3_{f.name.lower()}") for f, shape in prof_shapes.items()}

            def decay(x, stored):
                if self.deep_pipeline:
                    return fxp.decay_product(x, factor=stored)
                return fxp.decay_product(x, stored)
            m.d.sync += [
                n3.eq(n2), u3_ref.eq(u2_ref), u3_v.eq(u2_v),
                u_in.eq(u2_acc << prof_rd[ProfileField.WEIGHT_EXP].data),
                u3_pu.eq(decay(u2_u, prof_rd[ProfileField.DU].data)),
                u3_pv.eq(decay(u2_v, prof_rd[ProfileField.DV].data)),
            ]
            m.d.sync += [u3_prof[f].eq(prof_rd[f].data) for f in prof_shapes]
            floor = u3_prof[ProfileField.FLAGS][0]
            # U4: add the input to u, and the bias to v. With deep_pipeline the rounding
            # shifts have a clock of their own, since rounding, adding and saturating in one
            # clock missed 100 MHz on an ECP5; without it, U4 is part of U3.
            u4 = m.d.sync if self.deep_pipeline else m.d.comb
            n4, u4_ref, u4_v_old = Signal(NB), Signal(R), Signal(signed(S))
            u4_ur = Signal(fxp.shift_right_round(u3_pu, 12, floor).shape())
            u4_vr = Signal(fxp.shift_right_round(u3_pv, 12, floor).shape())
            u4_in = Signal.like(u_in)
            u4_prof = {f: Signal(prof_shapes[f], name=f"u4_{f.name.lower()}")
                       for f in (ProfileField.VTH, ProfileField.BIAS, ProfileField.RESET,
                                 ProfileField.V_RESET, ProfileField.REFRACTORY, ProfileField.FLAGS)}
            u4 += [
                n4.eq(n3), u4_ref.eq(u3_ref), u4_v_old.eq(u3_v), u4_in.eq(u_in),
                u4_ur.eq(fxp.shift_right_round(u3_pu, 12, floor)),
                u4_vr.eq(fxp.shift_right_round(u3_pv, 12, floor)),
            ]
            u4 += [u4_prof[f].eq(u3_prof[f]) for f in u4_prof]
            if homeo:
                u4 += th[4].eq(th[3])
            u_new4 = Signal(signed(S))
            m.d.comb += u_new4.eq(fxp.overflow(u4_ur + u4_in, S, u4_prof[ProfileField.FLAGS][1]))
            # U5: voltage.
            n5, u5_ref, u5_u = Signal(NB), Signal(R), Signal(signed(S))
            u5_v_old = Signal(signed(S))
            u5_vb = Signal(signed(S + 2))
            u5_prof = {f: Signal(prof_shapes[f], name=f"u5_{f.name.lower()}")
                       for f in (ProfileField.VTH, ProfileField.RESET, ProfileField.V_RESET,
                                 ProfileField.REFRACTORY)}
            u5_vsat = Signal()
            m.d.sync += [
                n5.eq(n4), u5_ref.eq(u4_ref), u5_u.eq(u_new4), u5_v_old.eq(u4_v_old),
                u5_vsat.eq(u4_prof[ProfileField.FLAGS][2]),
                u5_vb.eq(u4_vr + u4_prof[ProfileField.BIAS]),
            ]
            m.d.sync += [u5_prof[f].eq(u4_prof[f]) for f in u5_prof]
            # The saturated voltage and the effective threshold are registered before the
            # comparison: on the ECP5 the add, the clamp, the compare and the reset subtract in
            # one clock were the chip's longest path.
            v_int5 = Signal(signed(S))
            m.d.comb += v_int5.eq(fxp.overflow(u5_vb + u5_u, S, u5_vsat))
            vth5 = Signal(signed(S + 17))
            m.d.comb += vth5.eq(u5_prof[ProfileField.VTH].as_signed() + (th[5] if homeo else 0))
            # U6: fire, and the voltage after the reset.
            n6, u6_ref, u6_u, u6_v_old = Signal(NB), Signal(R), Signal(signed(S)), Signal(signed(S))
            v_int, vth_eff = Signal(signed(S)), Signal(signed(S + 17))
            u6_prof = {f: Signal(prof_shapes[f], name=f"u6_{f.name.lower()}")
                       for f in (ProfileField.RESET, ProfileField.V_RESET, ProfileField.REFRACTORY)}
            m.d.sync += [n6.eq(n5), u6_ref.eq(u5_ref), u6_u.eq(u5_u), u6_v_old.eq(u5_v_old),
                         v_int.eq(v_int5), vth_eff.eq(vth5)]
            m.d.sync += [u6_prof[f].eq(u5_prof[f]) for f in u6_prof]
            held = u6_ref != 0
            fire = Signal()
            m.d.comb += fire.eq(~held & (v_int > vth_eff))
            v_after = Signal(signed(S))
            with m.Switch(u6_prof[ProfileField.RESET]):
                with m.Case(0):
                    m.d.comb += v_after.eq(0)
                with m.Case(1):
                    m.d.comb += v_after.eq(v_int - vth_eff)
                with m.Default():
                    m.d.comb += v_after.eq(u6_prof[ProfileField.V_RESET])
            # U7: write back and emit.
            n7, u7_u, u7_v, u7_ref, u7_fire = Signal(NB), Signal(signed(S)), Signal(signed(S)), \
                Signal(R), Signal()
            m.d.sync += [
                n7.eq(n6), u7_u.eq(u6_u), u7_fire.eq(fire),
                u7_v.eq(Mux(held, u6_v_old, Mux(fire, v_after, v_int))),
                u7_ref.eq(Mux(held, u6_ref - 1, Mux(fire, u6_prof[ProfileField.REFRACTORY], 0))),
            ]
            u7_valid = u_valid[-1]
            if homeo:
                # Homeostasis: theta rises on a spike and decays back; written with the state.
                u7_theta_new = Signal(HB)
                theta_sum = th[7] - (th[7] >> regs[LearnParam.H_DECAY]) + \
                    Mux(u7_fire, regs[LearnParam.H_INC], 0)
                theta_max = (1 << HB) - 1
                m.d.comb += u7_theta_new.eq(Mux(regs[LearnParam.ENABLE][1],
                                                Mux(theta_sum > theta_max, theta_max, theta_sum),
                                                th[7]))
            wb_valid, wb_n, wb_u, wb_v, wb_ref, wb_fire = u7_valid, n7, u7_u, u7_v, u7_ref, u7_fire
        else:
            # The neuron at U2 goes to the model's step unit, one at a time (the issue waits
            # for the unit, see ``model_busy``); its result is written back and its spike
            # queued as U7's would be.
            model_n = Signal(NB)
            unit = m.submodules.unit = model_unit(p.neuron_model, S)
            pf = {f: prof_rd[f].data for f in prof_shapes}
            current = fxp.saturate((u2_acc << pf[WEIGHT_EXP_FIELD[p.neuron_model]]) +
                                   pf[BIAS_FIELD[p.neuron_model]].as_signed(), S)
            m.d.comb += [unit.inp.valid.eq(u_valid[-1]), unit.out.ready.eq(1)]
            m.d.comb += unit_payload(p.neuron_model, unit.inp.payload, pf, u2_v, u2_u, current)
            with m.If(u_valid[-1]):
                m.d.sync += model_n.eq(n2)
            wb_valid, wb_n, wb_fire = unit.out.valid, model_n, unit.out.payload.spike
            second = unit.out.payload.u if p.neuron_model is NeuronModel.IZHIKEVICH else \
                unit.out.payload.w
            wb_u, wb_v, wb_ref = second, unit.out.payload.v, Const(0, R)
            with m.If(u0):
                m.d.sync += model_busy.eq(1)
            with m.If(wb_valid):
                m.d.sync += model_busy.eq(0)
        m.d.comb += [spikes.w_en.eq(wb_valid & wb_fire), spikes.w_data.eq(wb_n)]
        with m.If(wb_valid & wb_fire):
            m.d.sync += counters[Counter.SPIKES].eq(counters[Counter.SPIKES] + 1)

        # ---- read port addresses ----------------------------------------------------
        dbg_addr = dbg.req.payload.addr
        # The update owns these ports while it runs; between steps they follow the debug
        # address, so that no address waits on the debug handshake.
        for port in (rd_pidx, rd_u, rd_ref) + ((lrd[LearnKind.THETA],) if homeo else ()):
            if self.deep_pipeline and port in (rd_pidx, rd_ref):
                m.d.comb += port.addr.eq(n_issue)
            else:
                m.d.comb += port.addr.eq(Mux(in_update, n_issue, dbg_addr))
        if self.deep_pipeline:
            m.d.comb += [dbg_pidx.addr.eq(dbg_addr), dbg_ref.addr.eq(dbg_addr)]
        # SDSP reads the target's membrane in the scan.
        m.d.comb += rd_v.addr.eq(Mux(in_update, n_issue,
                                     Mux(in_learn, s1_target, dbg_addr) if sdsp else dbg_addr))
        for port in prof_rd.values():
            m.d.comb += port.addr.eq(Mux(in_update, rd_pidx.data, dbg_addr[4:]))
        with m.If(in_update):
            m.d.comb += rd_acc.addr.eq(Cat(n_issue[:NB], t_slot))
        with m.Elif(s1b_valid):
            m.d.comb += rd_acc.addr.eq(s1_acc_addr)
        with m.Else():
            m.d.comb += rd_acc.addr.eq(dbg_addr)

        # ---- write ports ------------------------------------------------------------
        cfg_data = w.data
        for region, port in wr.items():
            m.d.comb += [port.addr.eq(w.addr),
                         port.en.eq(w_go & (w.region == region))]
        m.d.comb += [
            wr[Region.AXON_START].data.eq(cfg_data),
            wr[Region.AXON_COUNT].data.eq(cfg_data),
            wr[Region.SYN_TARGET].data.eq(Cat(cfg_data[:NB], cfg_data[16:16 + DB],
                                              cfg_data[24] if learns else Const(0, 0))),
            wr[Region.SYN_WEIGHT].data.eq(cfg_data),
            wr[Region.NEURON_PROFILE].data.eq(cfg_data),
            wr[Region.REFRACTORY].data.eq(cfg_data),
            wr[Region.U].data.eq(cfg_data),
            wr[Region.V].data.eq(cfg_data),
            wr[Region.ACC].data.eq(cfg_data),
        ]
        for f, port in prof_wr.items():
            value = cfg_data
            if self.deep_pipeline and lif and f in (ProfileField.DU, ProfileField.DV):
                value = fxp.decay_factor(cfg_data[:13])
            m.d.comb += [port.addr.eq(w.addr[4:]), port.data.eq(value),
                         port.en.eq(w_go & (w.region == Region.PROFILE) &
                                    (w.addr[:4] == f))]
        with m.If(wb_valid):
            for region, value in ((Region.U, wb_u), (Region.V, wb_v), (Region.REFRACTORY, wb_ref)):
                m.d.comb += [wr[region].addr.eq(wb_n), wr[region].data.eq(value),
                             wr[region].en.eq(1)]
        # Clear the slot as it is consumed (U1), or accumulate (S3).
        with m.If(u_valid[0]):
            m.d.comb += [wr[Region.ACC].addr.eq(Cat(n1, t_slot)), wr[Region.ACC].data.eq(0),
                         wr[Region.ACC].en.eq(1)]
        with m.Elif(s3_valid):
            m.d.comb += [wr[Region.ACC].addr.eq(s3_addr), wr[Region.ACC].data.eq(acc_sum),
                         wr[Region.ACC].en.eq(1)]

        # ---- learning: trace pass ---------------------------------------------------
        # One address per clock: read at T0, write the decayed, bumped trace at T1.
        cfg_learn = w_go & (w.region == Region.COUNTER) & w.addr[15]
        cfg_kind = w.addr[12:15]
        cfg_index = w.addr[:12]
        if learns:
            t1_valid = Signal()
            t1_i = Signal(range(M + 1))
            m.d.sync += [t1_valid.eq(in_trace & (trace_i < M)), t1_i.eq(trace_i)]
            with m.If(in_trace & (trace_i < M)):
                m.d.sync += trace_i.eq(trace_i + 1)
            t1_axon = t1_valid & (t1_i < A)
            t1_neuron = t1_valid & (t1_i < N) & ~clear_only
            # Pre flags: set by an event while the rule is enabled, cleared by the pass.
            with m.If(event_go & rule_en):
                m.d.comb += [lwr["pre"].addr.eq(self.axon_in.payload.axon),
                             lwr["pre"].data.eq(1), lwr["pre"].en.eq(1)]
            with m.Elif(t1_axon):
                m.d.comb += [lwr["pre"].addr.eq(t1_i), lwr["pre"].data.eq(0),
                             lwr["pre"].en.eq(1)]
            m.d.comb += [lwr["post"].addr.eq(n7), lwr["post"].data.eq(u7_fire),
                         lwr["post"].en.eq(u7_valid)]

            def bump(decayed, fired, inc):
                top = r[LearnParam.TRACE_MAX]
                summed = decayed + inc
                return Mux(fired, Mux(r[LearnParam.FLAGS][1] | (summed > top), top, summed),
                           decayed)

            trace_new = {}
            if traces:
                trace_new[LearnKind.X] = (t1_axon & ~clear_only, bump(
                    trace_decay(lrd[LearnKind.X].data, r[LearnParam.X_DECAY], multiply, TB),
                    lrd["pre"].data, r[LearnParam.X_INC]))
                trace_new[LearnKind.Y] = (t1_neuron, bump(
                    trace_decay(lrd[LearnKind.Y].data, r[LearnParam.Y_DECAY], multiply, TB),
                    lrd["post"].data, r[LearnParam.Y_INC]))
            if sdsp:
                ca = lrd[LearnKind.CALCIUM].data
                ca_sum = ca - (ca >> r[LearnParam.CA_DECAY]) + \
                    Mux(lrd["post"].data, r[LearnParam.CA_INC], 0)
                ca_max = (1 << CB) - 1
                trace_new[LearnKind.CALCIUM] = (t1_neuron, Mux(ca_sum > ca_max, ca_max, ca_sum))
            for kind, (en, value) in trace_new.items():
                with m.If(en):
                    m.d.comb += [lwr[kind].addr.eq(t1_i), lwr[kind].data.eq(value),
                                 lwr[kind].en.eq(1)]
                with m.Else():
                    m.d.comb += [lwr[kind].addr.eq(cfg_index), lwr[kind].data.eq(w.data),
                                 lwr[kind].en.eq(cfg_learn & (cfg_kind == kind))]
            # The scan's write-back.
            with m.If(l5_write):
                m.d.comb += [wr[Region.SYN_WEIGHT].addr.eq(l5_e),
                             wr[Region.SYN_WEIGHT].data.eq(l5_final),
                             wr[Region.SYN_WEIGHT].en.eq(1)]
            if three:
                with m.If(l5_write):
                    m.d.comb += [lwr["elig"].addr.eq(l5_e), lwr["elig"].data.eq(l5_el),
                                 lwr["elig"].en.eq(1)]
                with m.Else():
                    m.d.comb += [lwr["elig"].addr.eq(w.addr),
                                 lwr["elig"].data.eq(cfg_data[16:16 + EB]),
                                 lwr["elig"].en.eq(w_go &
                                                   (w.region == Region.SYN_WEIGHT))]
        if homeo:
            th = lwr[LearnKind.THETA]
            with m.If(u7_valid):
                m.d.comb += [th.addr.eq(n7), th.data.eq(u7_theta_new), th.en.eq(1)]
            with m.Else():
                m.d.comb += [th.addr.eq(cfg_index), th.data.eq(w.data),
                             th.en.eq(cfg_learn & (cfg_kind == LearnKind.THETA))]
        for f, reg in regs.items():
            with m.If(cfg_learn & (w.addr == LEARN_BASE | LearnKind.PARAM << 12 | f)):
                m.d.sync += reg.eq(w.data)

        # ---- phases -----------------------------------------------------------------
        m.d.comb += self.tick.ready.eq(idle_phase & delivery_empty & ~cfg.valid &
                                       ~dbg.req.valid & ~self.axon_in.valid & ~write_wait)
        with m.If(self.tick.valid & self.tick.ready):
            m.d.sync += [in_update.eq(1), n_issue.eq(0)]
        with m.If(u0):
            m.d.sync += n_issue.eq(n_issue + 1)
        advance = Signal()
        update_done = in_update & (n_issue == p.n_neurons) & (u_valid == 0) & ~model_busy
        with m.If(update_done):
            m.d.sync += in_update.eq(0)
        if learns:
            with m.If(update_done):
                with m.If(rule_en):
                    m.d.sync += [in_learn.eq(1), in_scan.eq(1), scan_axon.eq(0),
                                 clear_only.eq(0)]
                    if sdsp:
                        period = regs[LearnParam.DRIFT_PERIOD]
                        count = regs[LearnParam.DRIFT_COUNT]
                        is_drift = (period != 0) & (count >= period - 1)
                        m.d.sync += [drift_now.eq(is_drift),
                                     count.eq(Mux(is_drift, 0, Mux(count == 0xFFFF, count,
                                                                   count + 1)))]
                with m.Elif(pre_dirty):
                    m.d.sync += [in_learn.eq(1), in_trace.eq(1), trace_i.eq(0),
                                 clear_only.eq(1)]
                with m.Else():
                    m.d.comb += advance.eq(1)
            scan_done = in_scan & (scan_axon == A) & ~p_valid & ~g_more & ~s1_valid & \
                ~scan_busy
            with m.If(scan_done):
                m.d.sync += [in_scan.eq(0), in_trace.eq(1), trace_i.eq(0)]
            with m.If(in_trace & (trace_i == M) & ~t1_valid):
                m.d.sync += [in_trace.eq(0), in_learn.eq(0), pre_dirty.eq(0)]
                m.d.comb += advance.eq(1)
            with m.If(event_go & rule_en):
                m.d.sync += pre_dirty.eq(1)
            with m.If(in_learn):
                m.d.sync += counters[Counter.LEARN_CYCLES].eq(counters[Counter.LEARN_CYCLES] + 1)
        else:
            m.d.comb += advance.eq(update_done)
        with m.If(advance):
            m.d.sync += [
                t_slot.eq(Mux(t_slot == p.max_delay - 1, 0, t_slot + 1)),
                timestep.eq(timestep + 1),
            ]
            if three:
                m.d.sync += regs[LearnParam.REWARD].eq(0)

        # ---- debug reads ------------------------------------------------------------
        dbg_region = Signal(REGION_BITS)
        dbg_field = Signal(4)
        dbg_counter = Signal(ADDR_BITS)
        dbg_wait = Signal()
        with m.If(dbg_go):
            m.d.sync += [in_debug.eq(1), dbg_wait.eq(1), dbg_region.eq(dbg.req.payload.region),
                         dbg_field.eq(dbg_addr[:4]), dbg_counter.eq(dbg_addr)]
        # Two clocks: the memories' outputs and the registers are each picked and
        # registered, then one of them is answered. With deep_pipeline every memory's
        # output is registered first, and the memories are picked in four small groups:
        # a block RAM's output is slow on an ECP5, and a wide mux behind it missed 100 MHz.
        def extend(value):
            return value.as_signed() if value.shape().signed else value

        def syn_target_value():
            return Cat(rd_target.data[:NB], Const(0, 16 - NB), rd_target.data[NB:NB + DB],
                       Const(0, 8 - DB), rd_target.data[NB + DB:])

        def syn_weight_value():
            if three:
                w16, e16 = Signal(signed(16)), Signal(signed(16))
                m.d.comb += [w16.eq(rd_weight.data), e16.eq(lrd["elig"].data)]
                return Cat(w16, e16)
            return extend(rd_weight.data)

        groups = [
            {Region.AXON_START: rd_start.data, Region.AXON_COUNT: rd_count.data,
             Region.SYN_TARGET: syn_target_value(), Region.SYN_WEIGHT: syn_weight_value()},
            {Region.NEURON_PROFILE: dbg_pidx.data, Region.U: extend(rd_u.data),
             Region.V: extend(rd_v.data), Region.REFRACTORY: dbg_ref.data},
            {Region.ACC: extend(rd_acc.data), Region.PROFILE: None},
            {Region.COUNTER: None},
        ]
        if not self.deep_pipeline:
            groups = [{region: source for group in groups for region, source in group.items()}]
        if self.deep_pipeline:
            def registered(value):
                reg = Signal(value.shape(), name="dbg_out")
                m.d.sync += reg.eq(value)
                return reg
            for group in groups:
                for region, source in group.items():
                    if source is not None:
                        group[region] = registered(source)
            prof_out = {f: registered(port.data) for f, port in prof_rd.items()}
            for f in (ProfileField.DU, ProfileField.DV) if lif else ():
                # Kept as 4096 - d; read back as d.
                prof_out[f] = (Const(4096, 14) - prof_out[f])[:13]
            learn_out = {k: registered(lrd[k].data) for k in
                         (LearnKind.X, LearnKind.Y, LearnKind.CALCIUM, LearnKind.THETA)
                         if k in lrd}
        else:
            prof_out = {f: port.data for f, port in prof_rd.items()}
            learn_out = {k: lrd[k].data for k in
                         (LearnKind.X, LearnKind.Y, LearnKind.CALCIUM, LearnKind.THETA)
                         if k in lrd}
        group_values = [Signal(DATA_BITS, name=f"dbg_group{i}") for i in range(len(groups))]
        for group, value in zip(groups, group_values):
            with m.Switch(dbg_region):
                for region, source in group.items():
                    with m.Case(region):
                        if region is Region.PROFILE:
                            with m.Switch(dbg_field):
                                for f, out in prof_out.items():
                                    with m.Case(f):
                                        m.d.comb += value.eq(out)
                        elif region is Region.COUNTER:
                            with m.Switch(dbg_counter):
                                for kind, out in learn_out.items():
                                    with m.Case(f"1{kind:03b}------------"):
                                        m.d.comb += value.eq(out)
                        else:
                            m.d.comb += value.eq(source)
        reg_value = Signal(DATA_BITS)
        with m.Switch(dbg_counter):
            for c, sig in counters.items():
                with m.Case(c):
                    m.d.comb += reg_value.eq(sig)
            for f, reg in regs.items():
                with m.Case(LEARN_BASE | LearnKind.PARAM << 12 | f):
                    m.d.comb += reg_value.eq(reg)
        # Which of the five answers: one-hot, decoded from the request. Region 10 below
        # 0x8000 is the counters; its learning parameters are registers too.
        dbg_pick_of = Signal(len(groups) + 1)
        with m.If(dbg_go):
            req_region = dbg.req.payload.region
            from_regs = (req_region == Region.COUNTER) & \
                ((dbg_addr[15] == 0) | (dbg_addr[12:15] == LearnKind.PARAM))
            m.d.sync += dbg_pick_of.eq(Cat(
                *(Cat(req_region == r for r in group).any() & ~from_regs for group in groups),
                from_regs))
        dbg_held = [Signal(DATA_BITS, name=f"dbg_held{i}") for i in range(len(groups) + 1)]
        dbg_pick = Signal()
        dbg_ready = dbg_wait
        if self.deep_pipeline:
            dbg_ready = Signal()
            m.d.sync += dbg_ready.eq(dbg_wait)
            with m.If(dbg_wait):
                m.d.sync += dbg_wait.eq(0)
        with m.If(dbg_ready):
            m.d.sync += [dbg_wait.eq(0), dbg_pick.eq(1)]
            m.d.sync += [held.eq(value) for held, value in
                         zip(dbg_held, group_values + [reg_value])]
        with m.If(dbg_pick):
            answer = 0
            for i, held in enumerate(dbg_held):
                answer = answer | Mux(dbg_pick_of[i], held, 0)
            m.d.sync += [dbg_pick.eq(0), dbg.resp.valid.eq(1), dbg.resp.payload.eq(answer)]
        with m.If(dbg.resp.valid & dbg.resp.ready):
            m.d.sync += [dbg.resp.valid.eq(0), in_debug.eq(0)]

        # ---- activity ---------------------------------------------------------------
        m.d.comb += self.busy.eq(in_update | in_learn | in_debug | ~delivery_empty | spikes.r_rdy |
                                 self.axon_in.valid | self.tick.valid | write_wait)
        if self.cycle_counters:
            with m.If(self.busy):
                m.d.sync += counters[Counter.BUSY_CYCLES].eq(
                    counters[Counter.BUSY_CYCLES] + 1)
            with m.Else():
                m.d.sync += counters[Counter.IDLE_CYCLES].eq(
                    counters[Counter.IDLE_CYCLES] + 1)

        return m


def _u32(value):
    return int(value) & 0xFFFF_FFFF


def config_writes(image):
    """The ``(region, addr, data)`` writes that load ``image`` into a :class:`LIFCore`.

    ``image`` is a :class:`golden_model.image.CoreImage`; it was validated when
    it was built, so every value here fits its field. State and accumulator
    start at the image's initial values and zero.
    """
    p = image.params
    syn = image.synapses
    if image.structural is not None:
        raise ValueError("structural plasticity runs in the golden model only; a LIFCore "
                         "cannot load an image with structural set")
    writes = []
    for a in range(p.n_axons):
        writes.append((Region.AXON_START, a, int(syn.start[a]) if syn.count[a] else 0))
        writes.append((Region.AXON_COUNT, a, int(syn.count[a])))
    three = p.learning is not None and p.learning.rule is Rule.THREE_FACTOR
    for e in range(len(syn)):
        writes.append((Region.SYN_TARGET, e, int(syn.target[e]) | (int(syn.delay[e]) - 1) << 16 |
                       int(image.plastic[e]) << 24))
        # A three-factor core keeps the eligibility (initially 0) in bits 16..31.
        writes.append((Region.SYN_WEIGHT, e, int(syn.weight[e]) & 0xFFFF if three else
                       _u32(syn.weight[e])))
    for i, prof in enumerate(image.profiles):
        fields = profile_fields(prof, p.neuron_model)
        writes += [(Region.PROFILE, i << 4 | f, _u32(v)) for f, v in fields.items()]
    for n in range(p.n_neurons):
        writes.append((Region.NEURON_PROFILE, n, int(image.neuron_profile[n])))
        writes.append((Region.U, n, _u32(image.u0[n])))
        writes.append((Region.V, n, _u32(image.v0[n])))
        writes.append((Region.REFRACTORY, n, 0))
    for slot in range(p.max_delay):
        for n in range(p.n_neurons):
            writes.append((Region.ACC, slot << p.neuron_bits | n, 0))
    if p.learning is not None:
        writes += [(Region.COUNTER, addr, data) for addr, data in learning_writes(image)]
    return writes


def profile_fields(prof, model):
    """``{field: value}`` a profile of a core of ``model`` neurons is stored as."""
    if model is NeuronModel.IZHIKEVICH:
        F = IzhikevichField
        return {F.A: prof.a, F.B: prof.b, F.C: prof.c, F.D: prof.d, F.V_PEAK: prof.v_peak,
                F.BIAS: prof.bias, F.WEIGHT_EXP: prof.weight_exp}
    if model is NeuronModel.ADEX:
        F = AdExField

        def coef(c):
            return (c.m & 0xFFFF) | c.s << 16
        return {F.EL: prof.EL, F.VT: prof.VT, F.VR: prof.Vr, F.V_PEAK: prof.V_peak, F.B: prof.b,
                F.KL: coef(prof.kL), F.KX: coef(prof.kx), F.KE: coef(prof.kE),
                F.KW: coef(prof.kw), F.KA: coef(prof.ka), F.BIAS: prof.bias,
                F.WEIGHT_EXP: prof.weight_exp}
    flags = (prof.rounding.value == 1) | (prof.u_overflow.value == 1) << 1 | \
        (prof.v_overflow.value == 1) << 2
    return {
        ProfileField.DU: prof.du_eff, ProfileField.DV: prof.dv_eff,
        ProfileField.VTH: prof.vth, ProfileField.BIAS: prof.bias,
        ProfileField.RESET: prof.reset.value, ProfileField.V_RESET: prof.v_reset,
        ProfileField.REFRACTORY: prof.refractory, ProfileField.WEIGHT_EXP: prof.weight_exp,
        ProfileField.FLAGS: flags,
    }


def weight_value(data, params):
    """A ``SYN_WEIGHT`` debug read's weight, as ``params`` (a CoreParams) stores it."""
    if params.weight_signed:
        return signed_value(data, params.weight_bits)
    return data & ((1 << params.weight_bits) - 1)


def signed_value(data, bits):
    """Interpret the low ``bits`` of a 32-bit debug read as two's complement."""
    data &= (1 << bits) - 1
    return data - (1 << bits) if data >> (bits - 1) else data
