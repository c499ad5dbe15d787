# Copyright 2026 The vision_banana_ros authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Text instructions -> task ids.

The network is conditioned on a learned embedding per task; this module decides which task an instruction asks
for, from the keyword table in instructions.yaml beside it (installed with the package, so the model works
without a ROS share directory). Paraphrases map to the same task as long as they use one of its words.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re

import yaml

from ..tasks import TASKS

DEFAULT_TABLE = Path(__file__).resolve().parent / 'instructions.yaml'


@dataclass(frozen=True)
class InstructionTable:
    """Each task's instruction and the keywords that map a paraphrase to it."""

    instructions: dict[str, str]
    keywords: dict[str, frozenset[str]]

    @classmethod
    def load(cls, path: str | Path = DEFAULT_TABLE) -> 'InstructionTable':
        """Read the table from a YAML file (the packaged instructions.yaml by default)."""
        path = Path(path)
        try:
            tasks = yaml.safe_load(path.read_text())['tasks']
            table = cls(instructions={t: str(tasks[t]['instruction']) for t in TASKS},
                        keywords={t: frozenset(w.lower() for w in tasks[t]['keywords']) for t in TASKS})
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise ValueError(f'invalid instruction table {path}: {exc!r}') from exc
        for task, text in table.instructions.items():
            if table.task_of(text) != task:
                raise ValueError(f'invalid instruction table {path}: the instruction for {task} does not map to it')
        return table

    def task_of(self, instruction: str) -> str:
        """The task an instruction asks for (ValueError when none or several match equally)."""
        words = set(re.findall(r'[a-z]+', instruction.lower()))
        scores = {task: len(words & kw) for task, kw in self.keywords.items()}
        best = max(scores.values())
        winners = [t for t, s in scores.items() if s == best]
        if best == 0 or len(winners) > 1:
            raise ValueError(f'instruction {instruction!r} does not name one task; '
                             f'ask e.g. {", ".join(repr(v) for v in self.instructions.values())}')
        return winners[0]
