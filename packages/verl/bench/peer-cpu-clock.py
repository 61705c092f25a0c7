# Runs the PyTorch peer script given as the first argument with its timer reading the process's CPU time:
# time.perf_counter is replaced by time.process_time before the script starts, so every figure it reports is CPU
# milliseconds instead of wall-clock ones. The remaining arguments are the script's own.
import runpy
import sys
import time

time.perf_counter = time.process_time
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
