// RUN: not quant-opt %s --lowbit-rotate=kind=givens 2>&1 | FileCheck %s

// CHECK: error: lowbit-rotate: kind must be hadamard or random, got 'givens'
module {
}
