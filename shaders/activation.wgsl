// Activation functions for fused epilogues. The activation is a pipeline-overridable constant, so
// each pipeline compiles only the branch it uses. Codes match `Activation::code` in
// src/ops/activation.rs, whose `reference` is the specification. NaN propagates through every
// branch (comparisons with NaN are false, so `x < 0.0` keeps x).

override ACTIVATION: u32 = 0u;
override ACT_ALPHA: f32 = 0.0;
override ACT_BETA: f32 = 0.0;

// erf by Abramowitz & Stegun 7.1.26: absolute error below 1.5e-7.
fn erf_approx(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(x));
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
        + t * (-1.453152027 + t * 1.061405429))));
    let magnitude = 1.0 - poly * exp(-x * x);
    return select(magnitude, -magnitude, x < 0.0);
}

fn sigmoid(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-x));
}

// log(1 + t) for t in [0, 1] without `log`, whose accuracy WGSL states only as 2^-21 absolute near
// 1 (far too coarse for small t): 2·atanh(s) with s = t / (2 + t) <= 1/3, as its odd series
// 2s·(1 + s²/3 + … + s¹²/13); the first term left out is below (1/9)^7 / 15 < 2^-24 relative.
fn log1p_unit(t: f32) -> f32 {
    let s = t / (2.0 + t);
    let s2 = s * s;
    let series = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0
        + s2 * (1.0 / 11.0 + s2 * (1.0 / 13.0))))));
    return 2.0 * s * series;
}

// tanh keeping its relative accuracy near 0, where implementations built on exp cancel: below
// |x| = 1/16 the series x·(1 − x²/3 + 2x⁴/15), whose first term left out (17/315)·x⁶ < 2^-27
// relative; NaN fails the comparison and goes to the builtin.
fn tanh_accurate(x: f32) -> f32 {
    let x2 = x * x;
    let series = x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0)));
    return select(tanh(x), series, abs(x) < 0.0625);
}

fn apply_activation(x: f32) -> f32 {
    switch ACTIVATION {
        case 1u: { return select(x, 0.0, x < 0.0); }
        case 2u: { return select(x, ACT_ALPHA * x, x < 0.0); }
        case 3u: {
            let raised = select(x, ACT_ALPHA, x < ACT_ALPHA);
            return select(raised, ACT_BETA, raised > ACT_BETA);
        }
        case 4u: { return sigmoid(x); }
        case 5u: { return tanh_accurate(x); }
        case 6u: { return x * sigmoid(x); }
        case 7u: { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752)); }
        case 8u: { return clamp(ACT_ALPHA * x + ACT_BETA, 0.0, 1.0); }
        case 9u: { return x * clamp(x / 6.0 + 0.5, 0.0, 1.0); }
        case 10u: { return max(x, 0.0) + log1p_unit(exp(-abs(x))); }
        default: { return x; }
    }
}
