"""Process settings that make the compiled programs cheap to run and to reload: the
persistent compilation cache, glibc's allocator settings and JAX's CPU dispatch, XLA's
faster-compiling CPU emitters, and the bound on the programs a process keeps. Imports nothing of the engine.
"""
from .compile_cache import enable_compilation_cache
from .cpu_memory import (keep_freed_memory, keep_freed_memory_unless_opted_out, run_cpu_programs_synchronously,
                         run_cpu_programs_synchronously_unless_opted_out)
from .program_cache import MAX_CACHED_PROGRAMS, MAX_MEMORY_MAPS, ProgramCaches, memory_maps
from .xla_flags import FAST_COMPILE_FLAGS, cpu_fusion_emitters_enabled, prefer_fast_compilation
