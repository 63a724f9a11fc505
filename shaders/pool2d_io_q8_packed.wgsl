// int8 or uint8 operands of the 2-D MaxPool packed four per u32 word (joined after pool2d.wgsl and
// before q8_word_output.wgsl, whose entry writes each output word whole; little end first), so
// neighbouring threads never share a word and no atomics are needed; bytes past the last
// output are 0. Every 8-bit value is exact in f32, so the pool's max is the integers' max.
// SIGNED: int8 (bytes sign-extended), else uint8. A window with no tap inside the input (possible
// only with dilations) gives the type's lowest value.

override SIGNED: bool = true;

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;

fn load_input(index: u32) -> f32 {
    let byte = (input[index / 4u] >> (8u * (index % 4u))) & 0xffu;
    if SIGNED {
        return f32((i32(byte) << 24u) >> 24u);
    }
    return f32(byte);
}

// The byte of pooled `value`, saturated to the type's range.
fn q8_byte(value: f32) -> u32 {
    if SIGNED {
        return bitcast<u32>(i32(clamp(value, -128.0, 127.0))) & 0xffu;
    }
    return u32(clamp(value, 0.0, 255.0));
}

// The byte of pooled output element `index` (q8_word_output.wgsl packs four per word).
fn output_byte(index: u32) -> u32 {
    return q8_byte(pool_value(index));
}
