# Makes this folder a package so that tests/experiments/test_sensor.py and
# tests/data/test_sensor.py can share a basename under pytest's default import mode.
