// The int8 dot product of two packed words through WGSL's builtin (the
// packed_4x8_integer_dot_product language feature): one OpSDot where the device has
// VK_KHR_shader_integer_dot_product, naga's own unpacking polyfill elsewhere. This file is the
// first part of its programs because a `requires` directive must precede every declaration.

requires packed_4x8_integer_dot_product;

// Σ_j a_j · b_j over the four signed bytes of each word (byte j = bits 8j .. 8j + 7).
fn dot4_i8(a: u32, b: u32) -> i32 {
    return dot4I8Packed(a, b);
}
