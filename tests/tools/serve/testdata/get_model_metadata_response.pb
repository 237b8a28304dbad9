

half_plus_two¨
signature_def–
6type.googleapis.com/tensorflow.serving.SignatureDefMapÛ
>
__saved_model_init_op%#
__saved_model_init_op

NoOp
˜
serving_default„
/
x*
serving_default_x:0ÿÿÿÿÿÿÿÿÿ5
y0
StatefulPartitionedCall:0ÿÿÿÿÿÿÿÿÿtensorflow/serving/predict