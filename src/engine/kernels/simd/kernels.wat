;; Hand-written wasm SIMD loops over the tfjs-backend-wasm heap (its memory is imported), for channel-last
;; tensors whose channel count c is a multiple of 4 (callers widen or regroup others). Pointers are byte offsets
;; into that heap.
;; Column sums accumulate in f64 (promoted f32 lanes) so means/variances of large batches stay exact enough; each
;; f64 update adds the f32 pairwise sum of 8 rows (relative error ~3 f32 ulps per group, not growing with the rows).
;; Build: wat2wasm kernels.wat -o - | base64 -w0  (see build.sh, which regenerates binary.ts).
(module
  (import "env" "memory" (memory 1))

  ;; acc[j] (f64) = 0 for j < c
  (func $zero64 (param $acc i32) (param $c i32)
    (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $c) (i32.const 3))))

  ;; acc[j..j+3] (f64) += the four f32 lanes of v
  (func $acc4 (param $p i32) (param $v v128)
    (v128.store (local.get $p)
      (f64x2.add (v128.load (local.get $p)) (f64x2.promote_low_f32x4 (local.get $v))))
    (v128.store offset=16 (local.get $p)
      (f64x2.add (v128.load offset=16 (local.get $p))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))

  ;; acc[j] = sum over rows of x[row, j]. Eight rows at a time are summed in f32 (pairwise, in registers) and only
  ;; then added into the f64 accumulators, which live in memory: one accumulator update per 8 rows, not per row (V8
  ;; does not inline wasm calls, so $acc4 per row cost more than the sums). The last rows % 8 go one at a time.
  (func (export "colsum") (param $x i32) (param $rows i32) (param $c i32) (param $acc i32)
    (local $rb i32) (local $end i32) (local $j i32) (local $p i32) (local $a i32) (local $s v128)
    (local $gend i32) (local $r8 i32)
    (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $o4 i32) (local $o5 i32) (local $o6 i32) (local $o7 i32)
    (call $zero64 (local.get $acc) (local.get $c))
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $o1 (local.get $rb))
    (local.set $o2 (i32.add (local.get $o1) (local.get $rb)))
    (local.set $o3 (i32.add (local.get $o2) (local.get $rb)))
    (local.set $o4 (i32.add (local.get $o3) (local.get $rb)))
    (local.set $o5 (i32.add (local.get $o4) (local.get $rb)))
    (local.set $o6 (i32.add (local.get $o5) (local.get $rb)))
    (local.set $o7 (i32.add (local.get $o6) (local.get $rb)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rb))))
    (local.set $gend (i32.add (local.get $x) (i32.mul (i32.and (local.get $rows) (i32.const -8)) (local.get $rb))))
    (local.set $r8 (i32.shl (local.get $rb) (i32.const 3)))
    (block $grouped (loop $group
      (br_if $grouped (i32.ge_u (local.get $x) (local.get $gend)))
      (local.set $j (i32.const 0))
      (loop $col
        (local.set $p (i32.add (local.get $x) (local.get $j)))
        (local.set $s
          (f32x4.add
            (f32x4.add
              (f32x4.add
                (v128.load (local.get $p))
                (v128.load (i32.add (local.get $p) (local.get $o1))))
              (f32x4.add
                (v128.load (i32.add (local.get $p) (local.get $o2)))
                (v128.load (i32.add (local.get $p) (local.get $o3)))))
            (f32x4.add
              (f32x4.add
                (v128.load (i32.add (local.get $p) (local.get $o4)))
                (v128.load (i32.add (local.get $p) (local.get $o5))))
              (f32x4.add
                (v128.load (i32.add (local.get $p) (local.get $o6)))
                (v128.load (i32.add (local.get $p) (local.get $o7)))))))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 1))))
        (v128.store (local.get $a)
          (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $s))))
        (v128.store offset=16 (local.get $a)
          (f64x2.add (v128.load offset=16 (local.get $a))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rb))))
      (local.set $x (i32.add (local.get $x) (local.get $r8)))
      (br $group)))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $j (i32.const 0))
      (loop $col
        (call $acc4 (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 1)))
          (v128.load (i32.add (local.get $x) (local.get $j))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rb))))
      (local.set $x (i32.add (local.get $x) (local.get $rb)))
      (br $row))))

  ;; acc[j] = sum over rows of (x[row, j] - mean[j])^2, 8 rows at a time as in colsum
  (func (export "colsqdev") (param $x i32) (param $rows i32) (param $c i32) (param $mean i32) (param $acc i32)
    (local $rb i32) (local $end i32) (local $j i32) (local $d v128) (local $p i32) (local $a i32) (local $s v128)
    (local $m v128) (local $gend i32) (local $r8 i32)
    (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $o4 i32) (local $o5 i32) (local $o6 i32) (local $o7 i32)
    (call $zero64 (local.get $acc) (local.get $c))
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $o1 (local.get $rb))
    (local.set $o2 (i32.add (local.get $o1) (local.get $rb)))
    (local.set $o3 (i32.add (local.get $o2) (local.get $rb)))
    (local.set $o4 (i32.add (local.get $o3) (local.get $rb)))
    (local.set $o5 (i32.add (local.get $o4) (local.get $rb)))
    (local.set $o6 (i32.add (local.get $o5) (local.get $rb)))
    (local.set $o7 (i32.add (local.get $o6) (local.get $rb)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rb))))
    (local.set $gend (i32.add (local.get $x) (i32.mul (i32.and (local.get $rows) (i32.const -8)) (local.get $rb))))
    (local.set $r8 (i32.shl (local.get $rb) (i32.const 3)))
    (block $grouped (loop $group
      (br_if $grouped (i32.ge_u (local.get $x) (local.get $gend)))
      (local.set $j (i32.const 0))
      (loop $col
        (local.set $p (i32.add (local.get $x) (local.get $j)))
        (local.set $m (v128.load (i32.add (local.get $mean) (local.get $j))))
        (local.set $s
          (f32x4.add
            (f32x4.add
              (f32x4.add
                (f32x4.mul (local.tee $d (f32x4.sub (v128.load (local.get $p)) (local.get $m))) (local.get $d))
                (f32x4.mul (local.tee $d (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o1))) (local.get $m))) (local.get $d)))
              (f32x4.add
                (f32x4.mul (local.tee $d (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o2))) (local.get $m))) (local.get $d))
                (f32x4.mul (local.tee $d (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o3))) (local.get $m))) (local.get $d))))
            (f32x4.add
              (f32x4.add
                (f32x4.mul (local.tee $d (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o4))) (local.get $m))) (local.get $d))
                (f32x4.mul (local.tee $d (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o5))) (local.get $m))) (local.get $d)))
              (f32x4.add
                (f32x4.mul (local.tee $d (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o6))) (local.get $m))) (local.get $d))
                (f32x4.mul (local.tee $d (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o7))) (local.get $m))) (local.get $d))))))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 1))))
        (v128.store (local.get $a)
          (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $s))))
        (v128.store offset=16 (local.get $a)
          (f64x2.add (v128.load offset=16 (local.get $a))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rb))))
      (local.set $x (i32.add (local.get $x) (local.get $r8)))
      (br $group)))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $j (i32.const 0))
      (loop $col
        (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j)))
                                 (v128.load (i32.add (local.get $mean) (local.get $j)))))
        (call $acc4 (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 1)))
          (f32x4.mul (local.get $d) (local.get $d)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rb))))
      (local.set $x (i32.add (local.get $x) (local.get $rb)))
      (br $row))))

  ;; y = (x - mu[j]) * a[j] + b[j]
  (func (export "affine") (param $x i32) (param $y i32) (param $rows i32) (param $c i32)
        (param $mu i32) (param $a i32) (param $b i32)
    (local $rb i32) (local $end i32) (local $j i32)
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rb))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $j (i32.const 0))
      (loop $col
        (v128.store (i32.add (local.get $y) (local.get $j))
          (f32x4.add
            (f32x4.mul
              (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j)))
                         (v128.load (i32.add (local.get $mu) (local.get $j))))
              (v128.load (i32.add (local.get $a) (local.get $j))))
            (v128.load (i32.add (local.get $b) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rb))))
      (local.set $x (i32.add (local.get $x) (local.get $rb)))
      (local.set $y (i32.add (local.get $y) (local.get $rb)))
      (br $row))))

  ;; acc[0..c) = sum dy, acc[c..2c) = sum dy * (x - mean)   (f64; 8 rows at a time as in colsum)
  (func (export "colsum_dy_dyxc") (param $dy i32) (param $x i32) (param $rows i32) (param $c i32)
        (param $mean i32) (param $acc i32)
    (local $rb i32) (local $end i32) (local $j i32) (local $g v128) (local $acc2 i32)
    (local $p i32) (local $q i32) (local $a i32) (local $s v128) (local $m v128) (local $gend i32) (local $r8 i32)
    (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $o4 i32) (local $o5 i32) (local $o6 i32) (local $o7 i32)
    (local.set $acc2 (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))))
    (call $zero64 (local.get $acc) (i32.shl (local.get $c) (i32.const 1)))
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $o1 (local.get $rb))
    (local.set $o2 (i32.add (local.get $o1) (local.get $rb)))
    (local.set $o3 (i32.add (local.get $o2) (local.get $rb)))
    (local.set $o4 (i32.add (local.get $o3) (local.get $rb)))
    (local.set $o5 (i32.add (local.get $o4) (local.get $rb)))
    (local.set $o6 (i32.add (local.get $o5) (local.get $rb)))
    (local.set $o7 (i32.add (local.get $o6) (local.get $rb)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rb))))
    (local.set $gend (i32.add (local.get $x) (i32.mul (i32.and (local.get $rows) (i32.const -8)) (local.get $rb))))
    (local.set $r8 (i32.shl (local.get $rb) (i32.const 3)))
    (block $grouped (loop $group
      (br_if $grouped (i32.ge_u (local.get $x) (local.get $gend)))
      (local.set $j (i32.const 0))
      (loop $col
        (local.set $p (i32.add (local.get $x) (local.get $j)))
        (local.set $q (i32.add (local.get $dy) (local.get $j)))
        (local.set $m (v128.load (i32.add (local.get $mean) (local.get $j))))
        (local.set $s
          (f32x4.add
            (f32x4.add
              (f32x4.add
                (v128.load (local.get $q))
                (v128.load (i32.add (local.get $q) (local.get $o1))))
              (f32x4.add
                (v128.load (i32.add (local.get $q) (local.get $o2)))
                (v128.load (i32.add (local.get $q) (local.get $o3)))))
            (f32x4.add
              (f32x4.add
                (v128.load (i32.add (local.get $q) (local.get $o4)))
                (v128.load (i32.add (local.get $q) (local.get $o5))))
              (f32x4.add
                (v128.load (i32.add (local.get $q) (local.get $o6)))
                (v128.load (i32.add (local.get $q) (local.get $o7)))))))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 1))))
        (v128.store (local.get $a)
          (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $s))))
        (v128.store offset=16 (local.get $a)
          (f64x2.add (v128.load offset=16 (local.get $a))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))
        (local.set $s
          (f32x4.add
            (f32x4.add
              (f32x4.add
                (f32x4.mul (v128.load (local.get $q)) (f32x4.sub (v128.load (local.get $p)) (local.get $m)))
                (f32x4.mul (v128.load (i32.add (local.get $q) (local.get $o1))) (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o1))) (local.get $m))))
              (f32x4.add
                (f32x4.mul (v128.load (i32.add (local.get $q) (local.get $o2))) (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o2))) (local.get $m)))
                (f32x4.mul (v128.load (i32.add (local.get $q) (local.get $o3))) (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o3))) (local.get $m)))))
            (f32x4.add
              (f32x4.add
                (f32x4.mul (v128.load (i32.add (local.get $q) (local.get $o4))) (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o4))) (local.get $m)))
                (f32x4.mul (v128.load (i32.add (local.get $q) (local.get $o5))) (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o5))) (local.get $m))))
              (f32x4.add
                (f32x4.mul (v128.load (i32.add (local.get $q) (local.get $o6))) (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o6))) (local.get $m)))
                (f32x4.mul (v128.load (i32.add (local.get $q) (local.get $o7))) (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o7))) (local.get $m)))))))
        (local.set $a (i32.add (local.get $acc2) (i32.shl (local.get $j) (i32.const 1))))
        (v128.store (local.get $a)
          (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $s))))
        (v128.store offset=16 (local.get $a)
          (f64x2.add (v128.load offset=16 (local.get $a))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rb))))
      (local.set $x (i32.add (local.get $x) (local.get $r8)))
      (local.set $dy (i32.add (local.get $dy) (local.get $r8)))
      (br $group)))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $j (i32.const 0))
      (loop $col
        (local.set $g (v128.load (i32.add (local.get $dy) (local.get $j))))
        (call $acc4 (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 1))) (local.get $g))
        (call $acc4 (i32.add (local.get $acc2) (i32.shl (local.get $j) (i32.const 1)))
          (f32x4.mul (local.get $g)
            (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j)))
                       (v128.load (i32.add (local.get $mean) (local.get $j))))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rb))))
      (local.set $x (i32.add (local.get $x) (local.get $rb)))
      (local.set $dy (i32.add (local.get $dy) (local.get $rb)))
      (br $row))))

  ;; dx = A[j] * dy + B[j] * (x - mean[j]) + K[j]
  (func (export "bwd_dx") (param $dy i32) (param $x i32) (param $dx i32) (param $rows i32) (param $c i32)
        (param $mean i32) (param $A i32) (param $B i32) (param $K i32)
    (local $rb i32) (local $end i32) (local $j i32)
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rb))))
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $j (i32.const 0))
      (loop $col
        (v128.store (i32.add (local.get $dx) (local.get $j))
          (f32x4.add
            (f32x4.add
              (f32x4.mul (v128.load (i32.add (local.get $A) (local.get $j)))
                         (v128.load (i32.add (local.get $dy) (local.get $j))))
              (f32x4.mul (v128.load (i32.add (local.get $B) (local.get $j)))
                         (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j)))
                                    (v128.load (i32.add (local.get $mean) (local.get $j))))))
            (v128.load (i32.add (local.get $K) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $rb))))
      (local.set $x (i32.add (local.get $x) (local.get $rb)))
      (local.set $dy (i32.add (local.get $dy) (local.get $rb)))
      (local.set $dx (i32.add (local.get $dx) (local.get $rb)))
      (br $row))))

  ;; MaxPoolGrad for 2x2 windows, stride 2, no padding, NHWC; dx must be zeroed by the caller when h or w is odd.
  ;; Each dy goes to the first maximum of its window in row-major order (TensorFlow's rule).
  (func (export "maxpool2_grad") (param $x i32) (param $dy i32) (param $dx i32)
        (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (local $oh i32) (local $ow i32) (local $rb i32) (local $cb i32) (local $img i32)
    (local $i i32) (local $j i32) (local $k i32) (local $p i32) (local $q i32)
    (local $a v128) (local $b v128) (local $cc v128) (local $d v128) (local $m v128) (local $g v128)
    (local $ma v128) (local $mb v128) (local $mc v128) (local $taken v128)
    (local.set $oh (i32.shr_u (local.get $h) (i32.const 1)))
    (local.set $ow (i32.shr_u (local.get $w) (i32.const 1)))
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rb (i32.mul (local.get $w) (local.get $cb)))
    (local.set $img (i32.mul (local.get $h) (local.get $rb)))
    (block $nd (loop $nl
      (br_if $nd (i32.eqz (local.get $n)))
      (local.set $i (i32.const 0))
      (block $id (loop $il
        (br_if $id (i32.ge_u (local.get $i) (local.get $oh)))
        (local.set $j (i32.const 0))
        (block $jd (loop $jl
          (br_if $jd (i32.ge_u (local.get $j) (local.get $ow)))
          ;; p: byte offset of the window's top-left pixel within the image
          (local.set $p (i32.add (i32.mul (i32.shl (local.get $i) (i32.const 1)) (local.get $rb))
                                 (i32.mul (i32.shl (local.get $j) (i32.const 1)) (local.get $cb))))
          (local.set $k (i32.const 0))
          (loop $kl
            (local.set $q (i32.add (local.get $p) (local.get $k)))
            (local.set $a (v128.load (i32.add (local.get $x) (local.get $q))))
            (local.set $b (v128.load (i32.add (local.get $x) (i32.add (local.get $q) (local.get $cb)))))
            (local.set $cc (v128.load (i32.add (local.get $x) (i32.add (local.get $q) (local.get $rb)))))
            (local.set $d (v128.load (i32.add (local.get $x) (i32.add (i32.add (local.get $q) (local.get $rb)) (local.get $cb)))))
            (local.set $m (f32x4.max (f32x4.max (local.get $a) (local.get $b)) (f32x4.max (local.get $cc) (local.get $d))))
            (local.set $g (v128.load (local.get $dy)))
            (local.set $ma (f32x4.eq (local.get $a) (local.get $m)))
            (local.set $mb (v128.andnot (f32x4.eq (local.get $b) (local.get $m)) (local.get $ma)))
            (local.set $taken (v128.or (local.get $ma) (local.get $mb)))
            (local.set $mc (v128.andnot (f32x4.eq (local.get $cc) (local.get $m)) (local.get $taken)))
            (local.set $taken (v128.or (local.get $taken) (local.get $mc)))
            (v128.store (i32.add (local.get $dx) (local.get $q)) (v128.and (local.get $g) (local.get $ma)))
            (v128.store (i32.add (local.get $dx) (i32.add (local.get $q) (local.get $cb))) (v128.and (local.get $g) (local.get $mb)))
            (v128.store (i32.add (local.get $dx) (i32.add (local.get $q) (local.get $rb))) (v128.and (local.get $g) (local.get $mc)))
            (v128.store (i32.add (local.get $dx) (i32.add (i32.add (local.get $q) (local.get $rb)) (local.get $cb)))
              (v128.andnot (local.get $g) (local.get $taken)))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br_if $kl (i32.lt_u (local.get $k) (local.get $cb))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $jl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $x (i32.add (local.get $x) (local.get $img)))
      (local.set $dx (i32.add (local.get $dx) (local.get $img)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $nl)))
  )

;; Adam over n floats (n % 4 == 0): m' = b1 m + (1-b1) g, v' = b2 v + (1-b2) g^2,
;; w' = w - lrc1 * m' / (sqrt(v' * ic2) + eps), with lrc1 = lr / (1 - b1^t) and ic2 = 1 / (1 - b2^t).
  (func (export "adam") (param $w i32) (param $g i32) (param $m i32) (param $v i32)
        (param $w2 i32) (param $m2 i32) (param $v2 i32) (param $n i32)
        (param $b1 f32) (param $b2 f32) (param $lrc1 f32) (param $ic2 f32) (param $eps f32)
    (local $i i32) (local $end i32) (local $gv v128) (local $mv v128) (local $vv v128)
    (local $B1 v128) (local $C1 v128) (local $B2 v128) (local $C2 v128) (local $LR v128) (local $IC2 v128) (local $EPS v128)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $C1 (f32x4.splat (f32.sub (f32.const 1) (local.get $b1))))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $C2 (f32x4.splat (f32.sub (f32.const 1) (local.get $b2))))
    (local.set $LR (f32x4.splat (local.get $lrc1)))
    (local.set $IC2 (f32x4.splat (local.get $ic2)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $gv (v128.load (i32.add (local.get $g) (local.get $i))))
      (local.set $mv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $B1))
                                (f32x4.mul (local.get $gv) (local.get $C1))))
      (local.set $vv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $B2))
                                (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $C2))))
      (v128.store (i32.add (local.get $m2) (local.get $i)) (local.get $mv))
      (v128.store (i32.add (local.get $v2) (local.get $i)) (local.get $vv))
      (v128.store (i32.add (local.get $w2) (local.get $i))
        (f32x4.sub (v128.load (i32.add (local.get $w) (local.get $i)))
          (f32x4.div (f32x4.mul (local.get $LR) (local.get $mv))
                     (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $vv) (local.get $IC2))) (local.get $EPS)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l))))
;; Zero-pads NHWC x [n,h,w,c] into out [n,hp,wp,c]: out[i,r,j] = x[i,r-pt,j-pl] inside x, else 0.
;; Rows and columns past hp, wp are dropped (a strided grid that never reaches them).
  (func (export "pad_nhwc") (param $x i32) (param $out i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
        (param $hp i32) (param $wp i32) (param $pt i32) (param $pl i32)
    (local $pix i32) (local $span i32) (local $r i32) (local $rend i32) (local $i i32) (local $src i32) (local $dst i32)
    (local.set $pix (i32.shl (local.get $c) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0)
      (i32.mul (i32.mul (i32.mul (local.get $n) (local.get $hp)) (local.get $wp)) (local.get $pix)))
    ;; columns copied per row: min(w, wp - pl); rows: pt .. min(pt + h, hp)
    (local.set $span (i32.sub (local.get $wp) (local.get $pl)))
    (if (i32.lt_s (local.get $w) (local.get $span)) (then (local.set $span (local.get $w))))
    (local.set $span (i32.mul (local.get $span) (local.get $pix)))
    (local.set $rend (i32.add (local.get $pt) (local.get $h)))
    (if (i32.lt_s (local.get $hp) (local.get $rend)) (then (local.set $rend (local.get $hp))))
    (block $nd (loop $nl
      (br_if $nd (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $r (local.get $pt))
      (block $rd (loop $rl
        (br_if $rd (i32.ge_s (local.get $r) (local.get $rend)))
        (local.set $dst (i32.add (local.get $out) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $i) (local.get $hp))
          (local.get $r)) (local.get $wp)) (local.get $pl)) (local.get $pix))))
        (local.set $src (i32.add (local.get $x) (i32.mul (i32.mul (i32.add (i32.mul (local.get $i) (local.get $h))
          (i32.sub (local.get $r) (local.get $pt))) (local.get $w)) (local.get $pix))))
        (memory.copy (local.get $dst) (local.get $src) (local.get $span))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $nl))))

;; dst as rows of `to` floats from src's rows of `from`: each row's first min(from, to) floats, zeros after them.
;; Widens a channel count to a multiple of 4 for the loops below, or narrows their output back (any counts).
  (func (export "regroup") (param $src i32) (param $dst i32) (param $rows i32) (param $from i32) (param $to i32)
    (local $keep i32) (local $vec i32) (local $r i32) (local $j i32) (local $s i32) (local $d i32)
    (local.set $keep (select (local.get $from) (local.get $to) (i32.lt_s (local.get $from) (local.get $to))))
    (if (i32.gt_s (local.get $to) (local.get $from)) (then
      (memory.fill (local.get $dst) (i32.const 0) (i32.shl (i32.mul (local.get $rows) (local.get $to)) (i32.const 2)))))
    (local.set $vec (i32.and (local.get $keep) (i32.const -4)))
    (local.set $s (local.get $src))
    (local.set $d (local.get $dst))
    (block $rd (loop $rl
      (br_if $rd (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $j (i32.const 0))
      (block $vd (loop $vl
        (br_if $vd (i32.ge_u (local.get $j) (local.get $vec)))
        (v128.store (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 2)))
          (v128.load (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vl)))
      (block $td (loop $tl
        (br_if $td (i32.ge_u (local.get $j) (local.get $keep)))
        (f32.store (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 2)))
          (f32.load (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tl)))
      (local.set $s (i32.add (local.get $s) (i32.shl (local.get $from) (i32.const 2))))
      (local.set $d (i32.add (local.get $d) (i32.shl (local.get $to) (i32.const 2))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rl))))

;; One 4 x 8 block of a conv filter gradient: out[r, j] (rows co apart, r < 4, j < 8) = sum over every output
;; position (i, y, x) of xq[r] * dy[j], where xq = xb + i*img + y*rowstep + x*xstep (4 consecutive floats of the
;; padded input: (kw, ci) pairs) and dy advances by dpos bytes per position, starting at dp.
  (func $wgrad_tile8 (param $xb i32) (param $dp i32) (param $o i32) (param $n i32) (param $oh i32) (param $ow i32)
        (param $dpos i32) (param $xstep i32) (param $rowstep i32) (param $img i32)
    (local $i i32) (local $y i32) (local $x i32) (local $xr i32) (local $xq i32)
    (local $v v128) (local $d0 v128) (local $d1 v128) (local $s v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (block $nd (loop $nl
      (br_if $nd (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $xr (i32.add (local.get $xb) (i32.mul (local.get $i) (local.get $img))))
      (local.set $y (i32.const 0))
      (block $yd (loop $yl
        (br_if $yd (i32.ge_u (local.get $y) (local.get $oh)))
        (local.set $xq (local.get $xr))
        (local.set $x (local.get $ow))
        (loop $xl
          (local.set $v (v128.load (local.get $xq)))
          (local.set $d0 (v128.load (local.get $dp)))
          (local.set $d1 (v128.load offset=16 (local.get $dp)))
          (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $v) (local.get $v)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $d0))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $d1))))
          (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $v) (local.get $v)))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $d0))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $d1))))
          (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $v) (local.get $v)))
          (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (local.get $d0))))
          (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $s) (local.get $d1))))
          (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $v) (local.get $v)))
          (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $s) (local.get $d0))))
          (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $s) (local.get $d1))))
          (local.set $xq (i32.add (local.get $xq) (local.get $xstep)))
          (local.set $dp (i32.add (local.get $dp) (local.get $dpos)))
          (local.set $x (i32.sub (local.get $x) (i32.const 1)))
          (br_if $xl (local.get $x)))
        (local.set $xr (i32.add (local.get $xr) (local.get $rowstep)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $nl)))
    (v128.store (local.get $o) (local.get $a0))
    (v128.store offset=16 (local.get $o) (local.get $a1))
    (local.set $o (i32.add (local.get $o) (local.get $dpos)))
    (v128.store (local.get $o) (local.get $a2))
    (v128.store offset=16 (local.get $o) (local.get $a3))
    (local.set $o (i32.add (local.get $o) (local.get $dpos)))
    (v128.store (local.get $o) (local.get $a4))
    (v128.store offset=16 (local.get $o) (local.get $a5))
    (local.set $o (i32.add (local.get $o) (local.get $dpos)))
    (v128.store (local.get $o) (local.get $a6))
    (v128.store offset=16 (local.get $o) (local.get $a7)))

;; The same for a 4 x 4 block (the last four columns when co % 8 == 4).
  (func $wgrad_tile4 (param $xb i32) (param $dp i32) (param $o i32) (param $n i32) (param $oh i32) (param $ow i32)
        (param $dpos i32) (param $xstep i32) (param $rowstep i32) (param $img i32)
    (local $i i32) (local $y i32) (local $x i32) (local $xr i32) (local $xq i32)
    (local $v v128) (local $d0 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (block $nd (loop $nl
      (br_if $nd (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $xr (i32.add (local.get $xb) (i32.mul (local.get $i) (local.get $img))))
      (local.set $y (i32.const 0))
      (block $yd (loop $yl
        (br_if $yd (i32.ge_u (local.get $y) (local.get $oh)))
        (local.set $xq (local.get $xr))
        (local.set $x (local.get $ow))
        (loop $xl
          (local.set $v (v128.load (local.get $xq)))
          (local.set $d0 (v128.load (local.get $dp)))
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $v) (local.get $v)) (local.get $d0))))
          (local.set $a1 (f32x4.add (local.get $a1)
            (f32x4.mul (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $v) (local.get $v)) (local.get $d0))))
          (local.set $a2 (f32x4.add (local.get $a2)
            (f32x4.mul (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $v) (local.get $v)) (local.get $d0))))
          (local.set $a3 (f32x4.add (local.get $a3)
            (f32x4.mul (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $v) (local.get $v)) (local.get $d0))))
          (local.set $xq (i32.add (local.get $xq) (local.get $xstep)))
          (local.set $dp (i32.add (local.get $dp) (local.get $dpos)))
          (local.set $x (i32.sub (local.get $x) (i32.const 1)))
          (br_if $xl (local.get $x)))
        (local.set $xr (i32.add (local.get $xr) (local.get $rowstep)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $nl)))
    (v128.store (local.get $o) (local.get $a0))
    (local.set $o (i32.add (local.get $o) (local.get $dpos)))
    (v128.store (local.get $o) (local.get $a1))
    (local.set $o (i32.add (local.get $o) (local.get $dpos)))
    (v128.store (local.get $o) (local.get $a2))
    (local.set $o (i32.add (local.get $o) (local.get $dpos)))
    (v128.store (local.get $o) (local.get $a3)))

;; Conv2D filter gradient, NHWC, co % 4 == 0, ow >= 1: out [kh, lp, co] with out[k, l, j] = sum over (i, y, x) of
;; xp[i, y*sh + k, x*sw + l / c, l % c] * dy[i, y, x, j], for l < kw*c (rows l >= kw*c, up to lp = kw*c rounded up
;; to 4, are scratch). xp is the zero-padded input [n, hp, wp, c] with 4 floats of slack after it.
  (func (export "conv_wgrad") (param $xp i32) (param $dy i32) (param $out i32) (param $n i32) (param $hp i32)
        (param $wp i32) (param $c i32) (param $oh i32) (param $ow i32) (param $co i32) (param $kh i32) (param $lp i32)
        (param $sh i32) (param $sw i32)
    (local $pix i32) (local $row i32) (local $img i32) (local $dpos i32) (local $k i32) (local $l i32) (local $j i32)
    (local $xb i32) (local $o i32)
    (local.set $pix (i32.shl (local.get $c) (i32.const 2)))
    (local.set $row (i32.mul (local.get $wp) (local.get $pix)))
    (local.set $img (i32.mul (local.get $hp) (local.get $row)))
    (local.set $dpos (i32.shl (local.get $co) (i32.const 2)))
    (block $kd (loop $kl
      (br_if $kd (i32.ge_u (local.get $k) (local.get $kh)))
      (local.set $l (i32.const 0))
      (block $ld (loop $ll
        (br_if $ld (i32.ge_u (local.get $l) (local.get $lp)))
        (local.set $xb (i32.add (i32.add (local.get $xp) (i32.mul (local.get $k) (local.get $row)))
          (i32.shl (local.get $l) (i32.const 2))))
        (local.set $o (i32.add (local.get $out)
          (i32.shl (i32.mul (i32.add (i32.mul (local.get $k) (local.get $lp)) (local.get $l)) (local.get $co)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $jd (loop $jl
          (br_if $jd (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $co)))
          (call $wgrad_tile8 (local.get $xb) (i32.add (local.get $dy) (i32.shl (local.get $j) (i32.const 2)))
            (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))) (local.get $n) (local.get $oh) (local.get $ow)
            (local.get $dpos) (i32.mul (local.get $sw) (local.get $pix)) (i32.mul (local.get $sh) (local.get $row)) (local.get $img))
          (local.set $j (i32.add (local.get $j) (i32.const 8)))
          (br $jl)))
        (if (i32.lt_u (local.get $j) (local.get $co)) (then
          (call $wgrad_tile4 (local.get $xb) (i32.add (local.get $dy) (i32.shl (local.get $j) (i32.const 2)))
            (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))) (local.get $n) (local.get $oh) (local.get $ow)
            (local.get $dpos) (i32.mul (local.get $sw) (local.get $pix)) (i32.mul (local.get $sh) (local.get $row)) (local.get $img))))
        (local.set $l (i32.add (local.get $l) (i32.const 4)))
        (br $ll)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $kl)))
  )
;; A 4 x 8 (or 4 x 4) block of a matrix product, summed over kh slabs: out[r, j] (rows brow bytes apart) = sum over
;; k < kh, l < len of a[k*row + r*pix + l*step] * b[k*krow + l*brow + 4j]. For a stride-1 convolution the rows are 4
;; consecutive output pixels (step 4, one slab per kernel row); for a plain product kh = 1.
  (func $tile8 (param $a i32) (param $b i32) (param $o i32) (param $kh i32) (param $len i32)
        (param $pix i32) (param $row i32) (param $brow i32) (param $krow i32) (param $step i32)
    (local $k i32) (local $l i32) (local $ak i32) (local $bk i32) (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (block $kd (loop $kl
      (br_if $kd (i32.ge_u (local.get $k) (local.get $kh)))
      (local.set $ak (i32.add (local.get $a) (i32.mul (local.get $k) (local.get $row))))
      (local.set $bk (i32.add (local.get $b) (i32.mul (local.get $k) (local.get $krow))))
      (local.set $l (local.get $len))
      (loop $ll
        (local.set $b0 (v128.load (local.get $bk)))
        (local.set $b1 (v128.load offset=16 (local.get $bk)))
        (local.set $s (v128.load32_splat (local.get $ak)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $ak) (i32.mul (local.get $pix) (i32.const 1)))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $ak) (i32.mul (local.get $pix) (i32.const 2)))))
        (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $ak) (i32.mul (local.get $pix) (i32.const 3)))))
        (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $ak (i32.add (local.get $ak) (local.get $step)))
        (local.set $bk (i32.add (local.get $bk) (local.get $brow)))
        (local.set $l (i32.sub (local.get $l) (i32.const 1)))
        (br_if $ll (local.get $l)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $kl)))
    (v128.store (local.get $o) (local.get $a0))
    (v128.store offset=16 (local.get $o) (local.get $a1))
    (local.set $o (i32.add (local.get $o) (local.get $brow)))
    (v128.store (local.get $o) (local.get $a2))
    (v128.store offset=16 (local.get $o) (local.get $a3))
    (local.set $o (i32.add (local.get $o) (local.get $brow)))
    (v128.store (local.get $o) (local.get $a4))
    (v128.store offset=16 (local.get $o) (local.get $a5))
    (local.set $o (i32.add (local.get $o) (local.get $brow)))
    (v128.store (local.get $o) (local.get $a6))
    (v128.store offset=16 (local.get $o) (local.get $a7)))

  (func $tile4 (param $a i32) (param $b i32) (param $o i32) (param $kh i32) (param $len i32)
        (param $pix i32) (param $row i32) (param $brow i32) (param $krow i32) (param $step i32)
    (local $k i32) (local $l i32) (local $ak i32) (local $bk i32) (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (block $kd (loop $kl
      (br_if $kd (i32.ge_u (local.get $k) (local.get $kh)))
      (local.set $ak (i32.add (local.get $a) (i32.mul (local.get $k) (local.get $row))))
      (local.set $bk (i32.add (local.get $b) (i32.mul (local.get $k) (local.get $krow))))
      (local.set $l (local.get $len))
      (loop $ll
        (local.set $b0 (v128.load (local.get $bk)))
        (local.set $s (v128.load32_splat (local.get $ak)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $s (v128.load32_splat (i32.add (local.get $ak) (i32.mul (local.get $pix) (i32.const 1)))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $s (v128.load32_splat (i32.add (local.get $ak) (i32.mul (local.get $pix) (i32.const 2)))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $s (v128.load32_splat (i32.add (local.get $ak) (i32.mul (local.get $pix) (i32.const 3)))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $ak (i32.add (local.get $ak) (local.get $step)))
        (local.set $bk (i32.add (local.get $bk) (local.get $brow)))
        (local.set $l (i32.sub (local.get $l) (i32.const 1)))
        (br_if $ll (local.get $l)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $kl)))
    (v128.store (local.get $o) (local.get $a0))
    (local.set $o (i32.add (local.get $o) (local.get $brow)))
    (v128.store (local.get $o) (local.get $a1))
    (local.set $o (i32.add (local.get $o) (local.get $brow)))
    (v128.store (local.get $o) (local.get $a2))
    (local.set $o (i32.add (local.get $o) (local.get $brow)))
    (v128.store (local.get $o) (local.get $a3)))

;; Stride-1 convolution, NHWC, over an input already zero-padded: out[i, y, x, j] = sum over k < kh and
;; l < kw*c of xp[i, y + k, x + l / c, l % c] * wt[k, l, j], with xp [n, oh + kh - 1, ow + kw - 1, c] and wt
;; [kh, kw*c, co]. Needs co % 4 == 0 and ow >= 4: a row's last block of 4 pixels overlaps the one before it.
  (func (export "conv_s1") (param $xp i32) (param $wt i32) (param $out i32) (param $n i32) (param $oh i32) (param $ow i32)
        (param $c i32) (param $co i32) (param $kh i32) (param $kw i32)
    (local $pix i32) (local $row i32) (local $len i32) (local $brow i32) (local $krow i32) (local $orow i32)
    (local $i i32) (local $y i32) (local $x i32) (local $j i32) (local $xa i32) (local $oa i32) (local $last i32)
    (local.set $pix (i32.shl (local.get $c) (i32.const 2)))
    (local.set $row (i32.mul (i32.sub (i32.add (local.get $ow) (local.get $kw)) (i32.const 1)) (local.get $pix)))
    (local.set $len (i32.mul (local.get $kw) (local.get $c)))
    (local.set $brow (i32.shl (local.get $co) (i32.const 2)))
    (local.set $krow (i32.mul (local.get $len) (local.get $brow)))
    (local.set $orow (i32.mul (local.get $ow) (local.get $brow)))
    (local.set $last (i32.sub (local.get $ow) (i32.const 4)))
    (block $id (loop $il
      (br_if $id (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $y (i32.const 0))
      (block $yd (loop $yl
        (br_if $yd (i32.ge_u (local.get $y) (local.get $oh)))
        (local.set $x (i32.const 0))
        (loop $xl
          ;; the next block of 4 pixels, pulled back to end at the row's last pixel
          (if (i32.gt_s (local.get $x) (local.get $last)) (then (local.set $x (local.get $last))))
          (local.set $xa (i32.add (local.get $xp) (i32.add
            (i32.mul (i32.add (i32.mul (local.get $i) (i32.add (local.get $oh) (i32.sub (local.get $kh) (i32.const 1))))
              (local.get $y)) (local.get $row))
            (i32.mul (local.get $x) (local.get $pix)))))
          (local.set $oa (i32.add (local.get $out)
            (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $i) (local.get $oh)) (local.get $y)) (local.get $ow))
              (local.get $x)) (local.get $brow))))
          (local.set $j (i32.const 0))
          (block $jd (loop $jl
            (br_if $jd (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $co)))
            (call $tile8 (local.get $xa) (i32.add (local.get $wt) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $oa) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $kh) (local.get $len) (local.get $pix) (local.get $row) (local.get $brow) (local.get $krow) (i32.const 4))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $jl)))
          (if (i32.lt_u (local.get $j) (local.get $co)) (then
            (call $tile4 (local.get $xa) (i32.add (local.get $wt) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $oa) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $kh) (local.get $len) (local.get $pix) (local.get $row) (local.get $brow) (local.get $krow) (i32.const 4))))
          (local.set $x (i32.add (local.get $x) (i32.const 4)))
          (br_if $xl (i32.lt_s (local.get $x) (local.get $ow))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il)))
  )

;; C [m, n] = A [m, k] x B [k, n], with A's element (i, l) at a + i*sam + l*sak (bytes: a row-major A, or a
;; transposed one read in place) and B, C row-major. Needs m >= 4 and n >= 4: a last block of 4 rows, or of 4
;; columns, that would run past the end is pulled back to overlap the one before it.
  (func (export "gemm") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $n i32)
        (param $sam i32) (param $sak i32)
    (local $i i32) (local $j i32) (local $last i32) (local $brow i32) (local $ai i32) (local $ci i32)
    (local.set $brow (i32.shl (local.get $n) (i32.const 2)))
    (local.set $last (i32.sub (local.get $m) (i32.const 4)))
    (loop $il
      (if (i32.gt_s (local.get $i) (local.get $last)) (then (local.set $i (local.get $last))))
      (local.set $ai (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sam))))
      (local.set $ci (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $brow))))
      (local.set $j (i32.const 0))
      (block $jd (loop $jl
        (br_if $jd (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
        (call $tile8 (local.get $ai) (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2)))
          (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2)))
          (i32.const 1) (local.get $k) (local.get $sam) (i32.const 0) (local.get $brow) (i32.const 0) (local.get $sak))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $jl)))
      ;; up to 7 columns left: a block of 4, then one pulled back to end at the last column
      (block $td (loop $tl
        (br_if $td (i32.ge_u (local.get $j) (local.get $n)))
        (if (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n))
          (then (local.set $j (i32.sub (local.get $n) (i32.const 4)))))
        (call $tile4 (local.get $ai) (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2)))
          (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2)))
          (i32.const 1) (local.get $k) (local.get $sam) (i32.const 0) (local.get $brow) (i32.const 0) (local.get $sak))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $tl)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $il (i32.lt_s (local.get $i) (local.get $m))))
  )

)
