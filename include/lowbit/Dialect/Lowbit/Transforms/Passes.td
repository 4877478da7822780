//===- Passes.td - Lowbit transformation passes -------------*- tablegen -*-===//
//
// Passes that rewrite IR into and within the lowbit dialect.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

// Options every weight-quantization pass takes: the scheme and which layers.
defvar WeightSchemeOptions = [
  Option<"bits", "bits", "unsigned", "4", "code bit width (2-8)">,
  Option<"format", "format", "::mlir::lowbit::quant::CodeKind",
         "::mlir::lowbit::quant::CodeKind::Int",
         "codes; nf4 and fp4 are 4-bit, symmetric, s = max|w| / max|value|",
         [{::llvm::cl::values(
           clEnumValN(::mlir::lowbit::quant::CodeKind::Int, "int", "integers"),
           clEnumValN(::mlir::lowbit::quant::CodeKind::NF4, "nf4",
                      "QLoRA NormalFloat"),
           clEnumValN(::mlir::lowbit::quant::CodeKind::FP4, "fp4",
                      "OCP e2m1"))}]>,
  Option<"groupSize", "group-size", "int64_t", "128",
         "weights per scale along K, at most K; the last group is shorter "
         "when it does not divide K (0: per output channel)">,
  Option<"symmetric", "symmetric", "bool", "true",
         "symmetric codes (no zero point)">,
  Option<"scaleRule", "scale-rule", "::mlir::lowbit::quant::ScaleRule",
         "::mlir::lowbit::quant::ScaleRule::Extreme",
         "symmetric integer scales: extreme (s = m / -2^(b-1), m the weight "
         "of largest magnitude) or absmax (s = max|w| / (2^(b-1) - 1))",
         [{::llvm::cl::values(
           clEnumValN(::mlir::lowbit::quant::ScaleRule::Extreme, "extreme",
                      "the extreme weight on the extra negative code"),
           clEnumValN(::mlir::lowbit::quant::ScaleRule::AbsMax, "absmax",
                      "2^b - 1 codes, symmetric"))}]>,
  Option<"clipSearch", "clip-search", "bool", "false",
         "MSE-optimal clipping: each group's range shrunk to least squared error">,
  Option<"outlierFraction", "outlier-fraction", "double", "0.0",
         "SpQR-style outliers: this fraction of each layer's weights (largest "
         "w^2 H_ii; w^2 without statistics) is left out of the group fits "
         "and stored in f16 beside the codes (csr), at most 0.25">,
  Option<"minSize", "min-size", "int64_t", "1",
         "leave weights with K or N below this in float">,
  Option<"include", "include", "std::string", "\"\"",
         "quantize only layers whose name matches this regex (empty: all)">,
  Option<"exclude", "exclude", "std::string",
         "\"(^|[._/])(embed|embeddings|embed_tokens|word_embeddings|wte|wpe|lm_head)([._/]|$)\"",
         "leave layers whose name matches this regex in float (default: "
         "embeddings and output heads; '' for none)">,
  Option<"progress", "progress", "bool", "false",
         "a progress bar over the layers on stderr">,
];

def LowbitQuantizeRtnPass : Pass<"lowbit-quantize-rtn", "ModuleOp"> {
  let summary = "Round-to-nearest weight quantization of linear layers";
  let description = [{
    Rewrites every linear layer (a `linalg.matmul`, or the contraction ONNX
    MatMul/Gemm becomes, with a constant f32 `K x N` or `N x K` weight and a
    zero-filled init) into `lowbit.matmul` on a quantized weight computed at
    compile time. Layers are named after their weight constant (the ONNX
    initializer, e.g. `model.layers.0.mlp.up_proj.weight`).

    - groups of `group-size` consecutive weights along K share a scale
      (`group-size=0`: one scale per output channel; when the group size
      does not divide K the last group is shorter, as in MatMulNBits);
    - symmetric, `scale-rule=extreme` (the default): the weight m of largest
      magnitude goes to the extra negative code, `s = m / -2^(b-1)`
      (negative when m > 0; as llama.cpp's q4_0 and onnxruntime's
      MatMulNBits: steps of |m|/8 at 4 bits, not |m|/7);
      `scale-rule=absmax`: `s = max|w| / (2^(b-1) - 1)`; asymmetric: `s = (max - min) / (2^b - 1)`
      and an integer zero point `z = clamp(round(-min / s), 0, 2^b - 1)`
      (the group range always includes 0);
    - `clip-search`: the range is shrunk in 2% steps down to 62% (symmetric:
      with both that rule and `s = max|w| / (2^(b-1) - 1)`) and the scale of
      least squared error kept;
    - codes as in `#lowbit.scheme`; they are stored bit-packed in a
      `dense_resource` blob and unpacked with `lowbit.unpack_codes`.

    Each new `lowbit.matmul` carries, for reports: `lowbit.layer` (the name),
    `lowbit.method`, `lowbit.weight_error` (relative Frobenius error of the
    dequantized weight), `lowbit.output_error` (relative error of the
    layer's output on the calibration data, `||X dW|| / ||X W||` from the
    Hessian, when the input is a calibrated `lowbit.calibrate`) and
    `lowbit.time_ms`. Layers are quantized in parallel.
  }];
  let options = WeightSchemeOptions;
  let dependentDialects = [
    "::mlir::lowbit::LowbitDialect",
    "::mlir::arith::ArithDialect",
  ];
}

def LowbitGptqPass : Pass<"lowbit-gptq", "ModuleOp"> {
  let summary = "GPTQ weight quantization of linear layers";
  let description = [{
    Quantizes the same layers as `lowbit-quantize-rtn`, with the same
    schemes and report attributes, by GPTQ (Frantar et al., 2023): columns
    (inputs) are rounded one at a time and each rounding error is spread
    over the inputs not yet rounded through the upper Cholesky factor of the
    dampened inverse Hessian `(H + damp * mean(diag H) * I)^-1`, with lazy
    updates in blocks of `block-size` columns. Group scales are fitted when
    the group's first column is reached, on the error-compensated weights;
    with `act-order` columns go by decreasing `H_ii` and groups are static
    (fitted on the original weights), so the stored layout is unchanged.
    Symmetric scales follow `scale-rule` as in `lowbit-quantize-rtn`
    (default `extreme`: at 3 bits steps of |m|/4 rather than |m|/3; the
    `absmax` rule's code of headroom for compensated weights costs more
    than it saves, see docs/quantization.md).

    Every layer's input must be a `lowbit.calibrate` whose `lowbit.stats`
    holds a `hessian` (see `lowbit-attach-calibration`). Inputs never seen
    non-zero (`H_ii = 0`) get zero weights; a Hessian that stays singular is
    dampened ten times more, up to six times, with a warning naming the
    layer; after that the pass fails naming it.
  }];
  let options = !listconcat(WeightSchemeOptions, [
    Option<"damp", "damp", "double", "0.1",
           "diagonal dampening, a fraction of mean(diag H)">,
    Option<"blockSize", "block-size", "int64_t", "128",
           "columns per lazy batch update">,
    Option<"actOrder", "act-order", "bool", "true",
           "quantize inputs by decreasing H_ii (static groups: no run-time "
           "cost; off: in input order)">,
  ]);
  let dependentDialects = [
    "::mlir::lowbit::LowbitDialect",
    "::mlir::arith::ArithDialect",
  ];
}

def LowbitAllocateBitsPass : Pass<"lowbit-allocate-bits", "ModuleOp"> {
  let summary = "Choose each layer's bits, group size and outlier fraction "
                "within a budget (mixed precision by integer programming)";
  let description = [{
    For every selected linear layer (calibrated, as for `lowbit-gptq`) and
    every candidate scheme (`candidate-bits` x `candidate-groups` x
    `candidate-outliers`), quantizes the weight with the real quantizer
    (`method`: GPTQ or RTN, with the pass's other settings) and measures:

    - error (`error=relative`, the default): `tr(dW^T H dW) / tr(W^T H W)`,
      the squared error the layer's output gets on the calibration data
      over its energy (H the mean `X^T X` of the layer's input): each layer
      weighs by its output's signal-to-noise, since normalization after the
      residual additions rescales what reaches the model's output;
      `error=absolute`: `tr(dW^T H dW)` alone (measured worse: it gives the
      bits to the layers whose inputs are large, see
      docs/quantization.md);
    - cost: the bits the layer takes as stored: codes, f32 scales, u8 zero
      points when asymmetric, csr outliers (f16 value and i32 column each,
      i32 row pointers), exactly what `lowbit.report` counts.

    Then it picks one candidate per layer, minimizing the summed error with
    the summed cost within `budget`, as a 0-1 integer program (a
    multiple-choice knapsack) solved by COIN-OR CBC, exact unless
    `time-limit` ends the search (then the best choice found, a warning and
    the optimality gap). Budgets: `bpw:B` (bits per weight over the
    selected layers, scales and outliers counted) or `size:S` (their bytes;
    S with an optional kB, MB or GB suffix, powers of 1000).

    Each layer gets `lowbit.allocation = {bits, group, outlier_fraction,
    error, cost}` (cost in bits per weight), which `lowbit-quantize-rtn` and
    `lowbit-gptq` use in place of their own bits, group size and outlier
    fraction; the module gets the solve's summary `{budget,
    bits_per_weight, error, bound, gap, optimal, candidates, ...}`.

    Errors: a budget below the cheapest choice (the message gives the least
    feasible budget), a malformed budget or candidate, a layer without
    statistics, a non-finite weight.
  }];
  let options = [
    Option<"budget", "budget", "std::string", "\"\"",
           "bpw:<bits per weight> or size:<bytes>[kB|MB|GB]">,
    Option<"method", "method", "std::string", "\"gptq\"",
           "the quantizer measured for each candidate: gptq or rtn">,
    Option<"errorMeasure", "error", "std::string", "\"relative\"",
           "what is summed over layers: sensitivity (relative times the "
           "layer's lowbit.sensitivity importance, measured by "
           "lowbit-insert-sensitivity-probes runs), relative (tr(dW^T H dW) "
           "/ tr(W^T H W)) or absolute (tr(dW^T H dW))">,
    ListOption<"candidateBits", "candidate-bits", "unsigned",
               "code widths to choose from (default 2,3,4,5,6,8)">,
    ListOption<"candidateGroups", "candidate-groups", "int64_t",
               "group sizes to choose from, 0 = per output channel "
               "(default 32,64,128,0); groups larger than K are skipped">,
    ListOption<"candidateOutliers", "candidate-outliers", "double",
               "outlier fractions to choose from (default 0)">,
    Option<"symmetric", "symmetric", "bool", "true",
           "symmetric codes (no zero point)">,
    Option<"scaleRule", "scale-rule", "::mlir::lowbit::quant::ScaleRule",
           "::mlir::lowbit::quant::ScaleRule::Extreme",
           "symmetric integer scales, as in lowbit-quantize-rtn",
           [{::llvm::cl::values(
             clEnumValN(::mlir::lowbit::quant::ScaleRule::Extreme, "extreme",
                        "the extreme weight on the extra negative code"),
             clEnumValN(::mlir::lowbit::quant::ScaleRule::AbsMax, "absmax",
                        "2^b - 1 codes, symmetric"))}]>,
    Option<"clipSearch", "clip-search", "bool", "false",
           "MSE-optimal clipping of each group's range">,
    Option<"damp", "damp", "double", "0.1",
           "gptq: diagonal dampening, a fraction of mean(diag H)">,
    Option<"blockSize", "block-size", "int64_t", "128",
           "gptq: columns per lazy batch update">,
    Option<"actOrder", "act-order", "bool", "true",
           "gptq: inputs by decreasing H_ii, static groups">,
    Option<"timeLimit", "time-limit", "double", "10.0",
           "seconds the solver may search">,
    Option<"minSize", "min-size", "int64_t", "1",
           "leave weights with K or N below this in float">,
    Option<"include", "include", "std::string", "\"\"",
           "allocate only layers whose name matches this regex (empty: all)">,
    Option<"exclude", "exclude", "std::string",
           "\"(^|[._/])(embed|embeddings|embed_tokens|word_embeddings|wte|wpe|lm_head)([._/]|$)\"",
           "leave layers whose name matches this regex out (default: "
           "embeddings and output heads)">,
    Option<"progress", "progress", "bool", "false",
           "a progress bar over the layers on stderr">,
  ];
  let dependentDialects = ["::mlir::lowbit::LowbitDialect"];
}

def LowbitInsertSensitivityProbesPass
    : Pass<"lowbit-insert-sensitivity-probes", "ModuleOp"> {
  let summary = "Make each linear layer's quantization error switchable at "
                "run time, to measure how much it changes the model's output";
  let description = [{
    For the selected linear layers of the entry function, in program order
    (index i): D_i = dequant(RTN(W_i)) - W_i at `bits` and `group-size`
    (per output channel when K is smaller), the same contraction run on D_i,
    and the layer's result replaced by `y + p[i] * (x D_i)`, where `p` is a
    new last argument `tensor<L x f32>` of the entry named `lowbit:probe`.
    With p = 0 the model computes what it did; with p = e_i it computes the
    model with layer i alone quantized. Each layer gets `lowbit.probe =
    {index = i, error = tr(D^T H D) / tr(W^T H W)}` (the relative output
    error of the perturbation on the calibration statistics; 0 without
    them). `lowbit.calibrate` sites are dropped (their inputs used).

    The driver compiles the result and runs it once with p = 0 and once per
    layer with p = e_i on a few calibration samples: the relative change of
    the model's outputs divided by the probe's error is the layer's
    sensitivity (`lowbit.sensitivity`), which `lowbit-allocate-bits
    {error=sensitivity}` multiplies into each candidate's relative error.
  }];
  let options = [
    Option<"entry", "entry", "std::string", "\"main\"",
           "the function that gets the probe argument">,
    Option<"bits", "bits", "unsigned", "3", "bits of the probe's RTN">,
    Option<"groupSize", "group-size", "int64_t", "128",
           "group of the probe's RTN (per output channel when K is smaller)">,
    Option<"minSize", "min-size", "int64_t", "1",
           "leave weights with K or N below this alone">,
    Option<"include", "include", "std::string", "\"\"",
           "probe only layers whose name matches this regex (empty: all)">,
    Option<"exclude", "exclude", "std::string",
           "\"(^|[._/])(embed|embeddings|embed_tokens|word_embeddings|wte|wpe|lm_head)([._/]|$)\"",
           "leave layers whose name matches this regex alone">,
  ];
  let dependentDialects = [
    "::mlir::lowbit::LowbitDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def LowbitReportScaleEquivalencePass
    : Pass<"lowbit-report-scale-equivalence", "ModuleOp"> {
  let summary = "Report where a per-input-channel scale of each linear "
                "layer folds exactly";
  let description = [{
    Runs the equivalence analysis the smoothing passes build on
    (`ScaleEquivalence.h`) and emits one remark per group of linear layers
    reading one tensor, on the group's first layer: the layers, the channel
    count, and either what absorbs the shared scale (a norm's weight and
    bias; a linear layer's output columns and bias, directly or through an
    elementwise product such as SwiGLU's `act(gate) * up`) or why nothing
    can (another reader such as a residual add, an activation such as GELU,
    a reshape or transpose, a function argument). Changes nothing.
  }];
  let options = [
    Option<"include", "include", "std::string", "\"\"",
           "only layers whose name matches this regex">,
    Option<"exclude", "exclude", "std::string",
           "\"(^|[._/])(embed|embeddings|embed_tokens|word_embeddings|wte|wpe|lm_head)([._/]|$)\"",
           "not layers whose name matches this regex">,
  ];
}

def LowbitSmoothPass : Pass<"lowbit-smooth", "ModuleOp"> {
  let summary = "Per-channel smoothing (AWQ, SmoothQuant) folded into norms "
                "and weights";
  let description = [{
    For each group of linear layers reading one tensor X (found by the
    equivalence analysis, `ScaleEquivalence.h`), chooses a scale s > 0 per
    input channel from the calibration statistics of X's `lowbit.calibrate`
    site and folds it in: the producer of X divides by s (a norm's weight and
    bias; a linear layer's output columns and bias), the group's weights are
    multiplied by s along K, and the site's statistics become those of
    X diag(1/s). The float function is unchanged; no op is added.

    - `method=awq`: s = a^alpha / sqrt(max(a^alpha) min(a^alpha)) with a the
      channel's RMS (sqrt of the Hessian's diagonal), alpha = i / alpha-grid
      searched per group to minimise the group's output error after round
      to nearest at this pass's weight scheme (`bits`, `group-size`,
      `scale-rule`, ...: set them to what will quantize the layers);
      alpha = 0, no smoothing, is in the grid. With `quantizer=gptq`
      (GPTQ quantizes the layers afterwards, with `damp` and `act-order`)
      the round-to-nearest search still picks alpha, and the group keeps
      that scale only if GPTQ's error with it (on the same search columns,
      Hessian diag(1/s) H diag(1/s)) is below GPTQ's error without: GPTQ
      compensates part of what the search saw, and smoothing can then cost
      more than it gains (method `none`, alpha 0, where it would).
    - `method=smoothquant`, for int8 activations: s = max|x|^alpha /
      max|w|^(1 - alpha), alpha = i / alpha-grid searched per group, with
      s = 1 as one more candidate, to minimise the group's modelled output
      error with int8 activations: the weights' rounding error as for awq
      plus that of rounding X diag(1/s) per row in blocks of `group-size`
      channels (the int8 kernels' blocks; all of K for per-channel weights),
      estimated from the Hessian's diagonal (`Smoothing.h`). A fixed
      `alpha` skips the search (the paper's 0.5).

    Each layer of a smoothed group gets `lowbit.smooth = {method, alpha,
    error_before, error_after}` (the group's relative output error after
    rounding, without and with s; for smoothquant with the activations'
    modelled rounding error included; method `none` where the search kept
    s = 1), which the quantization passes carry to `lowbit.matmul`. A
    group with nothing to absorb its scale gets a remark saying why and is
    left unchanged; a selected group without statistics is an error naming
    its first layer. Dead channels (a statistic below 1e-5 of the group's
    largest) are floored there, so s is finite and positive.
  }];
  let options = !listconcat([
    Option<"method", "method", "std::string", "\"awq\"",
           "awq | smoothquant">,
    Option<"alpha", "alpha", "double", "-1.0",
           "fixed migration strength in [0, 1]; negative: search the "
           "grid">,
    Option<"alphaGrid", "alpha-grid", "int64_t", "20",
           "the search's alpha = i / alpha-grid, i = 0 .. alpha-grid - 1">,
    Option<"searchColumns", "search-columns", "int64_t", "256",
           "the search measures at most this many output columns per "
           "layer, evenly spaced (0: all)">,
    Option<"quantizer", "quantizer", "std::string", "\"rtn\"",
           "what quantizes the layers afterwards: rtn | gptq (awq: the "
           "searched scale is kept only if GPTQ's error with it is below "
           "GPTQ's error without)">,
    Option<"damp", "damp", "double", "0.1",
           "quantizer=gptq: diagonal dampening, a fraction of mean(diag H)">,
    Option<"actOrder", "act-order", "bool", "true",
           "quantizer=gptq: inputs by decreasing H_ii, static groups">,
  ], WeightSchemeOptions);
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LowbitFoldNormsPass : Pass<"lowbit-fold-norms", "ModuleOp"> {
  let summary = "Fold RMSNorm weights into the linear layers that read them";
  let description = [{
    The step before rotation (`lowbit-rotate`): a norm's per-channel weight
    g does not commute with an orthogonal Q, so it is moved into the
    weights. For each group of linear layers reading a norm's output (the
    equivalence analysis, `ScaleEquivalence.h`: q/k/v, gate/up, the output
    head), the group's weights are multiplied by g along K and g becomes
    1; the float function is unchanged up to rounding.

    First, a contraction whose weight is a transpose of a constant that is
    also read elsewhere (an output head tied to the embedding table) gets a
    constant of its own (`lm_head.weight.T` when the table is also gathered
    from, else `<table>.T`), so that folding into it leaves the embedding
    alone.

    Not folded, with a remark saying why: LayerNorm (a bias: folding it
    would add a bias to every reader) and norm weights read by anything
    else. Norms whose output is read by anything but the group (BERT's
    post-LN residual) are not paired by the analysis and stay as they are
    (`lowbit-rotate` then names the op where the stream stops).
    Calibration statistics already attached are an error: fold before
    calibrating.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LowbitRotatePass : Pass<"lowbit-rotate", "ModuleOp"> {
  let summary = "Rotate the residual stream by an orthogonal matrix folded "
                "into the weights (QuaRot, SpinQuant)";
  let description = [{
    Spreads the outlier channels of the residual stream over all channels,
    which makes the weights that read and write it easier to quantize,
    without changing the float function: with Q orthogonal (d x d, d the
    model width),

    - the embedding table's rows: E <- E Q;
    - each linear layer reading the stream (after `lowbit-fold-norms`):
      W <- Q^T W (q/k/v, gate/up, the output head);
    - each linear layer writing it (the layers whose output is added to the
      stream: o_proj, down_proj): W <- W Q.

    The stream is traced from the embedding lookup (a gather from a
    constant d-wide table) through the ops that commute with Q: residual
    adds, RMSNorm (sum of squares over the channels, a per-row factor; a
    weight of ones, as `lowbit-fold-norms` leaves it), reshapes that keep
    the channel dimension, and `lowbit.calibrate` without statistics. Any
    other reader (a norm with its own weight or a mean subtraction, an op
    mixing channels, a function result) makes the pass refuse with the
    first such op and change nothing, as does a model without an embedding
    lookup.

    Q is a randomized Hadamard matrix (`kind=hadamard`: diag(+-1) H /
    sqrt(d), signs from `seed`) where one of order d is built
    (`Rotation.h`), else, and with `kind=random`, a random orthogonal matrix
    from the QR factorization of a seeded Gaussian matrix. The module gets
    `lowbit.rotation = {kind, seed, dim, readers, writers, online}`.

    With `online=down`, the input of each layer fed by SwiGLU's
    `act(gate) * up` (the down projection; no weight can absorb a rotation
    there) is rotated too, at run time: Q = diag(s) H / sqrt(n) with n the
    layer's K, the signs s folded into up's output columns, a
    `lowbit.hadamard` inserted before the layer and its weight W <- Q^T W.
    Orders without a Hadamard construction are refused.
  }];
  let options = [
    Option<"kind", "kind", "std::string", "\"hadamard\"",
           "hadamard | random">,
    Option<"seed", "seed", "uint64_t", "0",
           "seed of the random signs or the random matrix">,
    ListOption<"online", "online", "std::string",
               "layers whose input is rotated at run time: down">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LowbitInsertCalibrationPass
    : Pass<"lowbit-insert-calibration", "ModuleOp"> {
  let summary = "Mark the inputs of linear layers as calibration sites";
  let description = [{
    Puts a `lowbit.calibrate` on the input of every linear layer (as
    `lowbit-quantize-rtn` finds them, with the same `include`/`exclude`),
    collecting abs-max, min/max, mean and the Hessian `X^T X` per input
    channel. Layers reading one tensor (q/k/v projections, gate/up) share
    one site, named after the first of them with `:in` appended.
  }];
  let options = [
    Option<"include", "include", "std::string", "\"\"",
           "only layers whose name matches this regex">,
    Option<"exclude", "exclude", "std::string",
           "\"(^|[._/])(embed|embeddings|embed_tokens|word_embeddings|wte|wpe|lm_head)([._/]|$)\"",
           "not layers whose name matches this regex">,
  ];
  let dependentDialects = ["::mlir::lowbit::LowbitDialect"];
}

def LowbitExposeCalibrationPass
    : Pass<"lowbit-expose-calibration", "ModuleOp"> {
  let summary = "Turn calibration sites into extra results of the entry";
  let description = [{
    For the instrumented run: each `lowbit.calibrate` in function `entry`
    is replaced by its operand and the statistics of one run are computed
    and returned as extra results named `calib:<site>:<stat>` (in the
    `onnx.name` result attribute the artifact's manifest uses):

    - `abs_max`, `min`, `max`, `sum`: `tensor<C x f32>` over all rows;
    - `hessian`: `tensor<C x C x f32>`, `X^T X` over the rows of this run
      (the caller accumulates runs in f64).

    With `token-cap=c` > 0 the Hessian weighs each row (token) `r` by
    `min(1, c g / |x_r|^2)`, `g` the geometric mean of the run's squared row
    norms: a token with massive activations (an attention sink: in SmolLM2
    one token gives 99.8% of the trace of a down projection's `X^T X`)
    counts as if its squared norm were `c g`, so that GPTQ does not fit that
    one token at the others' expense. The other statistics are unweighted.

    The channel axis must be the last one.
  }];
  let options = [
    Option<"entry", "entry", "std::string", "\"main\"", "the entry function">,
    Option<"onlyStatistics", "only-statistics", "bool", "false",
           "return only the statistics (the model's own results, and what "
           "only they need, are dropped)">,
    Option<"tokenCap", "token-cap", "double", "0.0",
           "cap each row's squared norm in the Hessian at this multiple of "
           "the geometric mean of the run's (0: plain X^T X)">,
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
  ];
}

def LowbitAttachCalibrationPass
    : Pass<"lowbit-attach-calibration", "ModuleOp"> {
  let summary = "Attach calibration statistics from a file to their sites";
  let description = [{
    Reads a statistics file written by `quant-compile --calib-cache` and
    sets, on each `lowbit.calibrate` whose site it holds, the discardable
    attribute `lowbit.stats`: a dictionary with `rows` (i64, rows seen),
    `samples` (i64) and, as `dense_resource` tensors, `abs_max`, `min`,
    `max`, `mean` (`C x f32`) and `hessian` (`C x C x f64`, `X^T X / rows`).
    A site missing from the file, or with another channel count, is an
    error naming the site and the file.
  }];
  let options = [
    Option<"file", "file", "std::string", "\"\"", "the statistics file">,
  ];
}

def LowbitPackPass : Pass<"lowbit-pack", "func::FuncOp"> {
  let summary = "Repack constant quantized weights for the CPU or GPU matmul "
                "kernels";
  let description = [{
    Rewrites `lowbit.matmul` on a constant weight (`lowbit.pack` of constant
    codes, scales and zero points) into `lowbit.packed_matmul` on two
    constants in the `#lowbit.packed` layout the kernels read (the CPU
    layouts below, or with `gpu` the GPU ones): codes
    interleaved in blocks of `4 * lanes` bytes per column, tiles of columns
    stored as one stream, scales (and zero points) per group beside them.
    The repacking happens at compile time, so the artifact's weights file
    holds the packed form and nothing is rearranged at run time.

    Taken: integer codes of 1 to 8 bits (kept in fields of 2, 4 or 8 bits:
    3-bit codes take 4 bits in the packed form, 5 to 7-bit codes 8),
    symmetric or asymmetric, groups
    along K whose size is a multiple of `lanes`, per-channel (along N) or
    per-tensor scales of any float type, f16 outliers (csr or coo; kept
    beside the codes, `outliers = nnz`), no mask, f32
    activations with at most `max-rows` rows (batch dimensions flattened):
    decoding and small batches, where the weights' bytes set the time.
    Other matmuls are left for the reference lowering. The tile (columns
    per stream) is `tile`, or when 0 chosen from the rows so that the
    kernel's accumulators fit the registers: 4 for 1-2 rows, 2 above
    (`int8` layouts on 8 lanes, whose AVX2 kernels keep pair sums in 16
    registers: 1 from 2 rows).

    With `int8-activations` the layout is the `int8` one (W4A8/W8A8 on
    VNNI): per-channel and per-tensor scales become groups of 128 (the
    activations' quantization blocks), groups must be multiples of 64, and
    other weights keep the f32-activation layout. Matmuls with more than
    `max-rows` rows whose weight would take the `int8` layout keep the
    reference lowering with a `lowbit.fake_quant` (8 bits, blocks of the
    layout's group) on their input, so that prefill rounds activations as
    decode does.

    With `int8-outlier-threshold` T > 0 (LLM.int8()-style activation
    outlier channels), a matmul whose weight takes the `int8` layout (or
    its prefill rounding) and whose input is a calibrated `lowbit.calibrate`
    site splits off the input channels whose calibrated abs-max exceeds T:
    they are zeroed in the input of the int8 matmul (so they no longer set
    its groups' scales) and multiplied, exact, by the same rows of the
    dequantized weight in a small f32 `linalg.matmul` whose result is added
    (`y = round(x with C zeroed) W + x[:, C] W[C, :]`). The split layers
    carry `lowbit.activation_outliers` (the channel count).

    With `lut-max-bits` = 1 to 4, integer codes of at most that many bits
    take the `lut` layout (2 or 4 bit planes, tiles of `2 * lanes` columns) of
    the table-lookup kernels when their groups are multiples of 8 and of
    `lanes` up to 256 (per-channel and per-tensor scales: groups of 128);
    this takes precedence over `int8-activations`.

    With `gpu`, every layout is one of the NVIDIA GPU kernels' (`lanes =
    128`): K and the groups must be multiples of 4, codes are integers (no
    codebooks), any number of rows is taken (the GPU has a prefill
    kernel), and `lanes`, `max-rows`, `int8-activations` and
    `lut-max-bits` do not apply. Groups of a multiple of 16 (and per
    channel or tensor) take the Marlin-style `mma` layout (tiles of 8
    columns; 1-4-bit codes in 4-bit fields, 5-8 in bytes) at any number of
    rows, except decode (at most 16 rows) with 1-2-bit codes; the rest take
    the plain `gpu` layout (one column per tile unless `tile` says
    otherwise).
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", "16",
           "32-bit lanes of the target's vectors (16: AVX-512, 8: AVX2, 4: NEON)">,
    Option<"tile", "tile", "int64_t", "0",
           "columns per tile (0: from the number of rows)">,
    Option<"maxRows", "max-rows", "int64_t", "16",
           "matmuls with more activation rows keep the reference lowering">,
    Option<"int8Activations", "int8-activations", "bool", "false",
           "layouts for kernels that quantize activations to int8 per group "
           "(VNNI or ARM dot products; groups of a multiple of 64 or per "
           "channel)">,
    Option<"int8OutlierThreshold", "int8-outlier-threshold", "double", "0.0",
           "with int8 activations: input channels whose calibrated abs-max "
           "exceeds this stay f32 in a side matmul (0: none)">,
    Option<"int8MaxBits", "int8-max-bits", "int64_t", "8",
           "widest packed codes the int8 kernels take (4 for ARM sdot, whose "
           "signed bytes hold unsigned codes below 128 only)">,
    Option<"amxMinRows", "amx-min-rows", "int64_t", "0",
           "int8 layouts of matmuls with at least this many rows (0: never) "
           "take the amx layout of the AMX tdpbusd kernels (groups holding "
           "whole 64-byte blocks: 64 k for 8-bit, 128 for 4-bit codes)">,
    Option<"lutMaxBits", "lut-max-bits", "int64_t", "0",
           "integer codes of at most this many bits (0: none, up to 4) take "
           "the lut layout of the table-lookup kernels">,
    Option<"gpu", "gpu", "bool", "false",
           "layouts of the NVIDIA GPU kernels (128 lanes, integer codes, K "
           "and groups multiples of 4)">,
  ];
  let dependentDialects = [
    "::mlir::lowbit::LowbitDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD
