// RUN: quant-opt %s --lowbit-reference-pipeline | %run | FileCheck %s

// lowbit.pack_codes writes the documented little-endian bit stream, and
// unpack_codes(pack_codes(c)) == c for every width 1..8 on a 7x5 tensor
// (35 codes: fields straddle bytes and the last byte is partial).

#id = affine_map<(i, j) -> (i, j)>

func.func private @printMemrefI32(tensor<*xi32>)

func.func @codes(%mod: i32) -> tensor<7x5xi8> {
  %e = tensor.empty() : tensor<7x5xi8>
  %r = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<7x5xi8>) {
  ^bb0(%out: i8):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i32
    %jj = arith.index_cast %j : index to i32
    %c5 = arith.constant 5 : i32
    %c11 = arith.constant 11 : i32
    %c3 = arith.constant 3 : i32
    %a = arith.muli %ii, %c5 : i32
    %b = arith.muli %jj, %c11 : i32
    %s = arith.addi %a, %b : i32
    %t = arith.addi %s, %c3 : i32
    %m = arith.remui %t, %mod : i32
    %v = arith.trunci %m : i32 to i8
    linalg.yield %v : i8
  } -> tensor<7x5xi8>
  return %r : tensor<7x5xi8>
}

func.func @mismatches(%a: tensor<7x5xi8>, %b: tensor<7x5xi8>) {
  %ne = arith.cmpi ne, %a, %b : tensor<7x5xi8>
  %ext = arith.extui %ne : tensor<7x5xi1> to tensor<7x5xi32>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<i32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<i32>) -> tensor<i32>
  %r = linalg.reduce ins(%ext : tensor<7x5xi32>) outs(%f : tensor<i32>) dimensions = [0, 1]
    (%in: i32, %acc: i32) {
      %s = arith.addi %in, %acc : i32
      linalg.yield %s : i32
    }
  %v = tensor.extract %r[] : tensor<i32>
  vector.print %v : i32
  return
}

func.func @main() {
  // Codes 1..7, 0 as 3-bit fields: bytes 0xD1, 0x58, 0x1F (signed: -47, 88,
  // 31), as in unittests/Support/BitPackingTest.cpp.
  // CHECK: [-47,  88,  31]
  %k = arith.constant dense<[1, 2, 3, 4, 5, 6, 7, 0]> : tensor<8xi3>
  %kb = lowbit.pack_codes %k : tensor<8xi3> -> tensor<3xi8>
  %kw = arith.extsi %kb : tensor<3xi8> to tensor<3xi32>
  %ku = tensor.cast %kw : tensor<3xi32> to tensor<*xi32>
  call @printMemrefI32(%ku) : (tensor<*xi32>) -> ()

  // Round trips, widths 1 to 8; each prints the number of mismatches.
  // CHECK: 0
  %m1 = arith.constant 2 : i32
  %c1 = call @codes(%m1) : (i32) -> tensor<7x5xi8>
  %t1 = arith.trunci %c1 : tensor<7x5xi8> to tensor<7x5xi1>
  %p1 = lowbit.pack_codes %t1 : tensor<7x5xi1> -> tensor<5xi8>
  %u1 = lowbit.unpack_codes %p1 : tensor<5xi8> -> tensor<7x5xi1>
  %x1 = arith.extui %u1 : tensor<7x5xi1> to tensor<7x5xi8>
  call @mismatches(%c1, %x1) : (tensor<7x5xi8>, tensor<7x5xi8>) -> ()

  // CHECK-NEXT: 0
  %m2 = arith.constant 4 : i32
  %c2 = call @codes(%m2) : (i32) -> tensor<7x5xi8>
  %t2 = arith.trunci %c2 : tensor<7x5xi8> to tensor<7x5xi2>
  %p2 = lowbit.pack_codes %t2 : tensor<7x5xi2> -> tensor<9xi8>
  %u2 = lowbit.unpack_codes %p2 : tensor<9xi8> -> tensor<7x5xi2>
  %x2 = arith.extui %u2 : tensor<7x5xi2> to tensor<7x5xi8>
  call @mismatches(%c2, %x2) : (tensor<7x5xi8>, tensor<7x5xi8>) -> ()

  // CHECK-NEXT: 0
  %m3 = arith.constant 8 : i32
  %c3 = call @codes(%m3) : (i32) -> tensor<7x5xi8>
  %t3 = arith.trunci %c3 : tensor<7x5xi8> to tensor<7x5xi3>
  %p3 = lowbit.pack_codes %t3 : tensor<7x5xi3> -> tensor<14xi8>
  %u3 = lowbit.unpack_codes %p3 : tensor<14xi8> -> tensor<7x5xi3>
  %x3 = arith.extui %u3 : tensor<7x5xi3> to tensor<7x5xi8>
  call @mismatches(%c3, %x3) : (tensor<7x5xi8>, tensor<7x5xi8>) -> ()

  // CHECK-NEXT: 0
  %m4 = arith.constant 16 : i32
  %c4 = call @codes(%m4) : (i32) -> tensor<7x5xi8>
  %t4 = arith.trunci %c4 : tensor<7x5xi8> to tensor<7x5xi4>
  %p4 = lowbit.pack_codes %t4 : tensor<7x5xi4> -> tensor<18xi8>
  %u4 = lowbit.unpack_codes %p4 : tensor<18xi8> -> tensor<7x5xi4>
  %x4 = arith.extui %u4 : tensor<7x5xi4> to tensor<7x5xi8>
  call @mismatches(%c4, %x4) : (tensor<7x5xi8>, tensor<7x5xi8>) -> ()

  // CHECK-NEXT: 0
  %m5 = arith.constant 32 : i32
  %c5 = call @codes(%m5) : (i32) -> tensor<7x5xi8>
  %t5 = arith.trunci %c5 : tensor<7x5xi8> to tensor<7x5xi5>
  %p5 = lowbit.pack_codes %t5 : tensor<7x5xi5> -> tensor<22xi8>
  %u5 = lowbit.unpack_codes %p5 : tensor<22xi8> -> tensor<7x5xi5>
  %x5 = arith.extui %u5 : tensor<7x5xi5> to tensor<7x5xi8>
  call @mismatches(%c5, %x5) : (tensor<7x5xi8>, tensor<7x5xi8>) -> ()

  // CHECK-NEXT: 0
  %m6 = arith.constant 64 : i32
  %c6 = call @codes(%m6) : (i32) -> tensor<7x5xi8>
  %t6 = arith.trunci %c6 : tensor<7x5xi8> to tensor<7x5xi6>
  %p6 = lowbit.pack_codes %t6 : tensor<7x5xi6> -> tensor<27xi8>
  %u6 = lowbit.unpack_codes %p6 : tensor<27xi8> -> tensor<7x5xi6>
  %x6 = arith.extui %u6 : tensor<7x5xi6> to tensor<7x5xi8>
  call @mismatches(%c6, %x6) : (tensor<7x5xi8>, tensor<7x5xi8>) -> ()

  // CHECK-NEXT: 0
  %m7 = arith.constant 128 : i32
  %c7 = call @codes(%m7) : (i32) -> tensor<7x5xi8>
  %t7 = arith.trunci %c7 : tensor<7x5xi8> to tensor<7x5xi7>
  %p7 = lowbit.pack_codes %t7 : tensor<7x5xi7> -> tensor<31xi8>
  %u7 = lowbit.unpack_codes %p7 : tensor<31xi8> -> tensor<7x5xi7>
  %x7 = arith.extui %u7 : tensor<7x5xi7> to tensor<7x5xi8>
  call @mismatches(%c7, %x7) : (tensor<7x5xi8>, tensor<7x5xi8>) -> ()

  // CHECK-NEXT: 0
  %m8 = arith.constant 256 : i32
  %c8 = call @codes(%m8) : (i32) -> tensor<7x5xi8>
  %p8 = lowbit.pack_codes %c8 : tensor<7x5xi8> -> tensor<35xi8>
  %u8 = lowbit.unpack_codes %p8 : tensor<35xi8> -> tensor<7x5xi8>
  call @mismatches(%c8, %u8) : (tensor<7x5xi8>, tensor<7x5xi8>) -> ()
  return
}
