"""Formulations of paper 001 (``unicast-multicast-sse``): the exact MINLP (31) (:mod:`.minlp`), the smooth APG
formulation with its closed-form projection (:mod:`.apg`) and the SCA sub-problem (:mod:`.sca`); shared scaled data
in :mod:`.data`."""
