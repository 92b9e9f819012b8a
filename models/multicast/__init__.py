"""Paper 001 (downlink unicast + multi-group multicast cell-free massive MIMO, problem ``unicast-multicast-sse``):
channel estimation, the exact UatF closed forms for MR and ZF, the unified SINR form, SE, fronthaul load, the
evaluator of problem (31) and the APG objective terms (spec ``/work/shared/spec/unicast_multicast.md``)."""
