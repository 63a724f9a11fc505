// The roofline's arithmetic kernel: each invocation advances four independent vec4 chains
// x ← fma(x, 0.999, 0.001) for ITERATIONS steps, 32 FLOP per step (4 chains × 4 lanes × 2), so
// FMA latency is hidden by independent work in every invocation as well as across invocations.
// The result is stored only when it equals `params.impossible` (negative; every chain converges
// to 1), so the compiler must compute it while the kernel touches no memory.

override ITERATIONS: u32 = 256u;

const WORKGROUP_SIZE: u32 = 256u;

struct FmaParams {
    impossible: f32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> params: FmaParams;
@group(0) @binding(1) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let seed = f32(id.x & 1023u) * 0.001;
    var a = vec4<f32>(seed, seed + 0.1, seed + 0.2, seed + 0.3);
    var b = a + vec4<f32>(0.4);
    var c = a + vec4<f32>(0.8);
    var d = a + vec4<f32>(1.2);
    let scale = vec4<f32>(0.999);
    let offset = vec4<f32>(0.001);
    for (var step = 0u; step < ITERATIONS; step++) {
        a = fma(a, scale, offset);
        b = fma(b, scale, offset);
        c = fma(c, scale, offset);
        d = fma(d, scale, offset);
    }
    let total = dot(a + b + c + d, vec4<f32>(1.0));
    if (total == params.impossible) {
        sink[0] = total;
    }
}
