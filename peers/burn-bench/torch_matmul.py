"""torch's matmul timed the way kiln-burn-bench times kiln and burn: one product per iteration,
waited for, timed by the wall clock; prints the median per problem.

On CUDA it runs cuBLAS with TF32 off (full f32 products), so f32 figures compare like with like.
Output: a line `device <name>`, then one line `MxNxK precision p50_seconds` per problem.
"""

import argparse
import statistics
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", required=True, help="MxNxK,... (a single number is a cube)")
    parser.add_argument("--precisions", default="f32,f16")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iters", type=int, default=20)
    args = parser.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    name = torch.cuda.get_device_name(0) if cuda else "cpu"
    print(f"device {name} (torch {torch.__version__}, {'cuBLAS' if cuda else 'CPU'}, TF32 off)")

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    dtypes = {"f32": torch.float32, "f16": torch.float16}
    for size in args.sizes.split(","):
        sides = [int(side) for side in size.split("x")]
        m, n, k = sides * 3 if len(sides) == 1 else sides
        for precision in args.precisions.split(","):
            generator = torch.Generator(device=device).manual_seed(9)
            uniform = lambda rows, cols: (  # noqa: E731
                torch.rand(rows, cols, generator=generator, device=device) * 2 - 1
            ).to(dtypes[precision])
            a, b = uniform(m, k), uniform(k, n)
            for _ in range(args.warmup):
                product = a @ b
                sync()
            samples = []
            for _ in range(args.iters):
                start = time.perf_counter()
                product = a @ b
                sync()
                samples.append(time.perf_counter() - start)
            del product
            print(f"{m}x{n}x{k} {precision} {statistics.median(samples)!r}")


if __name__ == "__main__":
    main()
