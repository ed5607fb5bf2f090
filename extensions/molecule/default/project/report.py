"""The scenario's job: write what nvidia-smi reports and the job's environment to result.json."""
import json
import os
import subprocess

gpus = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                      check=True, capture_output=True, text=True).stdout.splitlines()
with open("result.json", "w", encoding="utf-8") as handle:
    json.dump({"gpus": gpus, "token_set": bool(os.environ.get("MOLECULE_TOKEN")),
               "venv": os.environ.get("VIRTUAL_ENV", "")}, handle)
