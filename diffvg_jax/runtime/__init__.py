"""Process settings that make the compiled programs cheap to run and to reload: the
persistent compilation cache and glibc's allocator settings. Imports nothing of the engine.
"""
from .compile_cache import enable_compilation_cache
from .cpu_memory import keep_freed_memory
