# Runs the GoogleTest binaries under build/unittests (names ending in "Tests")
# as lit tests, one lit test per GoogleTest case.
import os

import lit.formats

config.name = "Lowbit-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.lowbit_obj_root, "unittests")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
