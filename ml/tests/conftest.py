import os
import sys

# The step scripts are plain modules run by SageMaker processing jobs; import them from ml/.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
