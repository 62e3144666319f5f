"""The one catalogue of dangerous names, for every scanner that judges names.

A model file has no business naming these: modules that run commands or code, touch files, open
connections, load other serialised objects or reach into the interpreter; and callables of
otherwise ordinary libraries that read, write or deserialise files. The pickle VM
(:mod:`mlwarden.scan.pickle.names`) judges dotted names against :data:`MODULES` and
:data:`CALLABLES`; the Keras config and TorchScript code checks judge module roots against
:data:`ROOT_MODULES`; skops judges its types through the pickle names. One list, so a module added
for one format is dangerous in all of them.
"""

from __future__ import annotations


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MODULES: frozenset[str] = words(
    "os posix nt posixpath ntpath subprocess _posixsubprocess pty tty runpy code codeop idlelib pip "
    "_pip ensurepip importlib imp zipimport pkgutil multiprocessing _multiprocessing concurrent "
    "threading _thread ctypes _ctypes cffi webbrowser shutil socket _socket socketserver ssl select "
    "itertools selectors http urllib urllib3 smtplib ftplib telnetlib poplib imaplib nntplib xmlrpc requests "
    "httpx aiohttp pickle _pickle pickletools dill cloudpickle joblib marshal sys signal platform "
    "bdb pdb trace tracemalloc doctest venv site sysconfig timeit cProfile profile pstats pydoc "
    "asyncio tempfile gc inspect types io _io fileinput shelve dbm sqlite3 tarfile zipfile "
    "builtins __builtin__ distutils setuptools lib2to3 tkinter _tkinter turtle turtledemo unittest "
    "mailcap cgi cgitb getpass readline rlcompleter resource fcntl mmap _winapi msvcrt winreg "
    "logging faulthandler atexit operator _operator functools _functools copyreg copy_reg "
    "pathlib glob linecache compileall py_compile zipapp ctypes.util _osx_support _aix_support "
    "torch.hub torch.serialization torch.jit torch.utils.collect_env torch.utils.cpp_extension "
    "torch.utils.data torch._dynamo torch._inductor torch.package torch.ops torch.classes "
    "torch.storage torch.distributed torch.multiprocessing torch.compiler torch.testing torch._C "
    "numpy.testing numpy.f2py numpy.distutils numpy.ctypeslib numpy.lib.npyio numpy.lib.format "
    "numpy.lib._npyio_impl numpy.lib.utils numpy.load numpy.loadtxt numpy.fromfile "
    "pandas.io pandas.core.computation pyarrow.fs pyarrow.parquet pyarrow.csv pyarrow.feather "
    "pyarrow.dataset pyarrow.orc pyarrow.ipc pyarrow.flight pyarrow.cffi numexpr "
    "sklearn.utils._testing sklearn.utils._mocking "
    "sklearn.utils.fixes sklearn.externals.joblib yaml jinja2 mako dask keras tensorflow "
    "IPython jupyter_client nbformat paramiko fabric invoke sh plumbum pexpect psutil docker "
    "boto3 botocore google.cloud azure git dulwich _pyio asyncore asynchat smtpd wsgiref") | words(
    # spellings other loaders and configs use for the same things
    "__builtins__ cPickle commands urllib2 httplib exec eval compile")
"""Modules (and dotted sub-modules) whose every name is dangerous."""

CALLABLES: frozenset[str] = words(
    "numpy.load numpy.loadtxt numpy.genfromtxt numpy.fromfile numpy.save numpy.savez numpy.tofile "
    "numpy.memmap.flush pandas.read_pickle pandas.read_csv pandas.read_json pandas.read_html "
    "pandas.read_sql pandas.read_parquet pandas.read_excel pandas.eval pandas.to_pickle "
    "torch.load torch.save torch.from_file torch.compile torch.ops scipy.io.loadmat "
    "scipy.io.savemat scipy.weave.inline pandas.HDFStore pandas.ExcelWriter pandas.ExcelFile "
    "pyarrow.lib.OSFile pyarrow.lib.MemoryMappedFile pyarrow.lib.PythonFile pyarrow.lib.NativeFile "
    "pyarrow.lib.memory_map pyarrow.lib.create_memory_map pyarrow.lib.input_stream "
    "pyarrow.lib.output_stream pyarrow.OSFile pyarrow.memory_map")
"""Callables of otherwise ordinary modules that read, write or deserialise files."""

ROOT_MODULES: frozenset[str] = frozenset(m for m in MODULES if "." not in m)
"""Top-level modules of :data:`MODULES` (for checks that see only a module's first part)."""


def root_is_dangerous(dotted: str, *, own: frozenset[str] = frozenset()) -> bool:
    """Whether ``dotted``'s top-level module is in the catalogue (``own`` roots excepted: the
    format's own framework, such as ``keras`` for a Keras config)."""
    root = dotted.split(".", 1)[0]
    return root in ROOT_MODULES and root not in own
