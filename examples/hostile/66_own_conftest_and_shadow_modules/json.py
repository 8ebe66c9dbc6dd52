"""HOSTILE: a grader that imported from the submission folder would run this."""
import os
try:
    with open("/tmp/hostile_shadow_marker", "a") as f:
        f.write(f"{__name__} imported by uid {os.getuid()}\n")
except OSError:
    pass
