from rest_framework import serializers

from lending.loans.models import Loan


class BaseLoanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Loan
        fields = ["id", "returned"]


class LoanSerializer(BaseLoanSerializer):
    # A ModelSerializer through a project base class.
    pass


class ReturnRequest(serializers.Serializer):
    loan_id = serializers.IntegerField()
