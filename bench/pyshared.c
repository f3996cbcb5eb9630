/*
 * python3 linked against libpython3.X.so, the library the python plugin
 * embeds: bench/python runs ProcessPoolExecutor under it too, so that
 * the pools can be compared on the same interpreter as well as against
 * the system's python3 (which Debian links statically, and which runs
 * pure Python code faster than its shared library does).
 */
#include <Python.h>

int
main(int argc, char **argv)
{
	return Py_BytesMain(argc, argv);
}
