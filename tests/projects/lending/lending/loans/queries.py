from .models import Loan


def fetch_loan(loan_id):
    return Loan.objects.get(pk=loan_id)


def open_loans(member_id):
    # Lazy: builds a queryset, runs nothing.
    return Loan.objects.filter(member_id=member_id, returned=False)
