"""Build hooks the static pyproject.toml cannot express: the version is the C library's
(FERC_VERSION_STRING in include/ferc.h), and the installed package records the source tree
it was built from (ferc/_where.py) so that it finds libferc.so and weights/ there."""
import os
import re

from setuptools import setup
from setuptools.command.build_py import build_py

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def version():
    with open(os.path.join(TREE, "include", "ferc.h")) as f:
        return re.search(r'#define FERC_VERSION_STRING "([^"]+)"', f.read()).group(1)


class BuildPy(build_py):
    def run(self):
        super().run()
        with open(os.path.join(self.build_lib, "ferc", "_where.py"), "w") as f:
            f.write("# Written by setup.py: the ferc tree this package was built from.\nTREE = %r\n" % TREE)


setup(version=version(), cmdclass={"build_py": BuildPy})
