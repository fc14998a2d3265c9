"""Reading CloudFormation templates and AWS's published semantics of them.

`template` is the one reader of templates (short or long intrinsic forms) and the one evaluator of
Conditions, `Fn::If` and `AWS::NoValue`; the local stack, the deploy tooling and the tests all go
through it.
"""
