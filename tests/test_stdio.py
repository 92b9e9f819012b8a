"""solvers_adapters._stdio: native writes to file descriptor 1 land on stderr inside the guard, Python's own prints
stay on stdout, and nested and concurrent (threaded) blocks keep the guard until the last one ends."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import ctypes, os, sys, threading, time
    from solvers_adapters._stdio import native_stdout_to_stderr

    libc = ctypes.CDLL(None)
    print("py-before", flush=True)
    with native_stdout_to_stderr():
        os.write(1, b"native-raw\\n")             # what a C library's write(1, ...) does
        libc.printf(b"native-printf\\n")          # buffered by libc when fd 1 is a pipe
        print("py-inside")
        with native_stdout_to_stderr():           # nested: a no-op
            os.write(1, b"native-nested\\n")
        os.write(1, b"native-after-nested\\n")

    # two threads whose blocks overlap: A leaves while B is still inside; B's native write must still go to stderr
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():
        with native_stdout_to_stderr():
            a_in.set()
            b_in.wait()                           # B is inside too: the blocks overlap
        a_out.set()

    def b():
        a_in.wait()
        with native_stdout_to_stderr():
            b_in.set()
            a_out.wait()                          # A has left; B is still inside
            os.write(1, b"native-thread-b\\n")

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    tb.start(); ta.start(); ta.join(); tb.join()
    os.write(1, b"py-level-after\\n")              # outside every block: stdout again
    libc.fflush(None)
""")


def test_native_output_goes_to_stderr_python_output_stays_on_stdout():
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["py-before", "py-inside", "py-level-after"], p.stdout
    for text in ("native-raw", "native-printf", "native-nested", "native-after-nested", "native-thread-b"):
        assert text in p.stderr, (text, p.stderr)
