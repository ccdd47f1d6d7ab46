"""Driving the running application from outside, as a learner's browser or a misbehaving
upstream would: shared by the tests and the benchmarks."""
