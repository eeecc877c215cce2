"""The facts of the seniority certificate."""

from typing import TypedDict


class SeniorityFacts(TypedDict):
    registered_on: str
    years: int  # whole years between registration and the day of issue
    employers: int  # employers that ever declared the holder
