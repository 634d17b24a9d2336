"""python -m arena_infer --package DIR --basemodel DIR --test test.parquet --out submission.csv [--work DIR] [--batch-size N] [--no-tta]"""

import argparse
import json
import sys

from .errors import PackageError


def main() -> int:
    parser = argparse.ArgumentParser(prog="arena_infer")
    parser.add_argument("--package", required=True)
    parser.add_argument("--basemodel", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--work", default="arena-infer-work")
    parser.add_argument("--batch-size", type=int, default=0)
    parser.add_argument("--no-tta", action="store_true")
    args = parser.parse_args()
    from .predict import predict

    try:
        summary = predict(args.package, args.basemodel, args.test, args.out, args.work, args.batch_size, not args.no_tta)
    except PackageError as err:
        print(f"arena_infer: {err}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
