;; Hand-written wasm SIMD loops over the tfjs-backend-wasm heap (its memory is imported), for channel-last
;; tensors whose channel count c is a multiple of 4. Pointers are byte offsets into that heap.
;; Column sums accumulate in f64 (promoted f32 lanes) so means/variances of large batches stay exact enough.
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

  ;; acc[j] = sum over rows of x[row, j]
  (func (export "colsum") (param $x i32) (param $rows i32) (param $c i32) (param $acc i32)
    (local $rb i32) (local $end i32) (local $j i32)
    (call $zero64 (local.get $acc) (local.get $c))
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rb))))
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

  ;; acc[j] = sum over rows of (x[row, j] - mean[j])^2
  (func (export "colsqdev") (param $x i32) (param $rows i32) (param $c i32) (param $mean i32) (param $acc i32)
    (local $rb i32) (local $end i32) (local $j i32) (local $d v128)
    (call $zero64 (local.get $acc) (local.get $c))
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rb))))
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

  ;; acc[0..c) = sum dy, acc[c..2c) = sum dy * (x - mean)   (f64)
  (func (export "colsum_dy_dyxc") (param $dy i32) (param $x i32) (param $rows i32) (param $c i32)
        (param $mean i32) (param $acc i32)
    (local $rb i32) (local $end i32) (local $j i32) (local $g v128) (local $acc2 i32)
    (local.set $acc2 (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))))
    (call $zero64 (local.get $acc) (i32.shl (local.get $c) (i32.const 1)))
    (local.set $rb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rb))))
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
)
