"""Micro-benchmarks that print numbers (`vision_banana bench ...`); never timed assertions in tests."""
