from asgiref.sync import sync_to_async

from . import queries
from .models import Loan, Member
from .queries import fetch_loan, open_loans


def close_loan(loan_id):
    # services -> queries: the query is one module further.
    loan = fetch_loan(loan_id)
    loan.returned = True
    return loan


def close_all(loan_ids):
    # A helper calling a helper calling a helper.
    return [close_loan(i) for i in loan_ids]


def count_open(member_id):
    return Loan.objects.filter(member_id=member_id, returned=False).count()


def count_open_via(member_id):
    # Known limit: what another module's helper returns is not part of this file's summary,
    # so `.count()` on it is not known to query.
    return open_loans(member_id).count()


def member_loans(member_id):
    # Only lazy querysets: calling it runs nothing.
    return queries.open_loans(member_id).order_by("-id")


def greeting(name):
    return f"hello {name}"


@sync_to_async
def close_loan_async(loan_id):
    return close_loan(loan_id)


async def async_count(member_id):
    return await open_loans(member_id).acount()


def register(name):
    return Member.objects.create(name=name)
