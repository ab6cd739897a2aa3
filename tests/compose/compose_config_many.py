# `docker-compose --profile debug config` in each directory given, in one Python process:
# docker-compose 1.29's own entry point (compose.cli.main.main) with that argv, so that 300
# projects cost one interpreter start instead of 300 (about a second each). Run it with the
# interpreter of the docker-compose script (its #! line). Writes DIR/merged.yml (what config
# printed) and prints "EXIT_CODE DIR" per directory; exits 1 when compose cannot be imported.
import io
import os
import sys

try:
    from compose.cli.main import main
except ImportError as e:
    print(f"cannot import docker-compose's Python package: {e}", file=sys.stderr)
    sys.exit(1)

for directory in sys.argv[1:]:
    os.chdir(directory)
    sys.argv = ["docker-compose", "--profile", "debug", "config"]
    printed = io.StringIO()
    stdout = sys.stdout
    sys.stdout = printed
    try:
        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except Exception as e:  # a crash of compose is a rejection too, with its reason
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        code = 1
    finally:
        sys.stdout = stdout
    with open("merged.yml", "w") as f:
        f.write(printed.getvalue())
    print(code, directory, flush=True)
