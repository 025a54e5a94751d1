"""Runs one test of test_ar1.py for CTest: exit 0 when it passed, 77 (CTest: Skipped) when it
skipped itself, 1 when it failed. unittest alone would exit 0 for a skipped test."""
import sys
import unittest

suite = unittest.defaultTestLoader.loadTestsFromName(sys.argv[1])
result = unittest.TextTestRunner(verbosity=2).run(suite)
if not result.wasSuccessful():
    sys.exit(1)
sys.exit(77 if result.skipped else 0)
