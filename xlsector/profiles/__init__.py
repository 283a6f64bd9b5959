"""Named strategy profiles and experiment files (TOML), and the code that runs them.

Where profiles are looked up, first match wins:

1. folders given with ``--profiles-dir`` (CLI) or ``dirs=`` (Python);
2. folders listed in the environment variable ``XLSECTOR_PROFILES`` (separated by ``os.pathsep``:
   ``:`` on Linux/macOS, ``;`` on Windows);
3. the profiles shipped in this package folder (``xlsector/profiles/*.toml``).

So a user overrides a shipped profile by putting a file of the same name in their own folder. Shipped
experiment files live in ``xlsector/profiles/experiments/``. The formats are documented in
``docs/experiments.md``.
"""

from __future__ import annotations

from xlsector.profiles.experiment import Experiment, ExperimentResult, Phase, load_experiment, run_experiment
from xlsector.profiles.loader import (
    PROFILES_ENV,
    Profile,
    bundled_dir,
    experiments_dir,
    list_profiles,
    load_profile,
    profile_dirs,
    read_toml,
)
from xlsector.profiles.run import ProfileRun, run_profile

__all__ = [
    "PROFILES_ENV",
    "Experiment",
    "ExperimentResult",
    "Phase",
    "Profile",
    "ProfileRun",
    "bundled_dir",
    "experiments_dir",
    "list_profiles",
    "load_experiment",
    "load_profile",
    "profile_dirs",
    "read_toml",
    "run_experiment",
    "run_profile",
]
