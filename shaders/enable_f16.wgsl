// Turns on WGSL's `f16` type for the program joined after it. It is always a program's first part,
// because enable directives must precede every declaration; such a program sets `needs_f16` and
// runs only on devices with SHADER_F16.
enable f16;
