"""What ``setup.py`` passes to ``setup()``, printed without installing anything.

Run (sandboxed, no network) only when ``install_requires`` is not a literal the parser can read
(engine/repo_env.py): a stand-in ``setup`` records the keyword arguments and prints them as one
JSON line after ``AIWEBTEST-DEPS``.
"""

SETUP_PROBE = (
    "import json, runpy, sys, types\n"
    "seen = {}\n"
    "def capture(*args, **kw):\n"
    "    seen.update(install_requires=list(kw.get('install_requires') or []),\n"
    "                extras=dict(kw.get('extras_require') or {}))\n"
    "try:\n"
    "    import setuptools\n"
    "except ImportError:\n"
    "    setuptools = sys.modules['setuptools'] = types.ModuleType('setuptools')\n"
    "    setuptools.find_packages = lambda *a, **k: []\n"
    "setuptools.setup = capture\n"
    "try:\n"
    "    import distutils.core\n"
    "    distutils.core.setup = capture\n"
    "except ImportError:\n"
    "    pass\n"
    "sys.argv = ['setup.py', 'egg_info']\n"
    "runpy.run_path('setup.py', run_name='__main__')\n"
    "print('AIWEBTEST-DEPS ' + json.dumps(seen))\n"
)
