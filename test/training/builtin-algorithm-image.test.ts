import { App, CfnOutput, CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MlopsValidationError } from '../../lib/private/errors';
import { BuiltInAlgorithmImage } from '../../lib/training/builtin-algorithm-image';

const { XGBOOST_1_7_1: XGBOOST, SKLEARN_1_2_1: SKLEARN } = BuiltInAlgorithmImage;

describe('BuiltInAlgorithmImage', () => {
  test('covers every region of the published table, including China, GovCloud and ISO', () => {
    const regions = BuiltInAlgorithmImage.supportedRegions();
    expect(regions).toHaveLength(37);
    expect(regions).toEqual(
      expect.arrayContaining([
        'us-east-1',
        'eu-west-1',
        'ap-southeast-4',
        'ca-west-1',
        'cn-north-1',
        'cn-northwest-1',
        'us-gov-west-1',
        'us-gov-east-1',
        'us-iso-east-1',
        'us-isob-east-1',
        'us-isof-south-1',
      ]),
    );
    expect(regions.every((r) => /^\d{12}$/.test(BuiltInAlgorithmImage.registryAccount(r)!))).toBe(true);
  });

  test.each([
    // Facts from the published table: XGBoost and scikit-learn share these accounts.
    ['us-east-1', XGBOOST, '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1'],
    ['eu-west-1', XGBOOST, '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1'],
    [
      'us-east-1',
      SKLEARN,
      '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3',
    ],
    ['cn-north-1', XGBOOST, '450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1'],
    ['us-gov-west-1', XGBOOST, '414596584902.dkr.ecr.us-gov-west-1.amazonaws.com/sagemaker-xgboost:1.7-1'],
    [
      'us-iso-east-1',
      SKLEARN,
      '833128469047.dkr.ecr.us-iso-east-1.c2s.ic.gov/sagemaker-scikit-learn:1.2-1-cpu-py3',
    ],
    ['us-isob-east-1', XGBOOST, '281123927165.dkr.ecr.us-isob-east-1.sc2s.sgov.gov/sagemaker-xgboost:1.7-1'],
  ] as const)('in %s the published URI is used (case %#)', (region, image, uri) => {
    expect(image.uriForRegion(region)).toBe(uri);
  });

  test('partition domains', () => {
    expect(BuiltInAlgorithmImage.domainSuffix('cn-northwest-1')).toBe('amazonaws.com.cn');
    expect(BuiltInAlgorithmImage.domainSuffix('us-gov-east-1')).toBe('amazonaws.com');
    expect(BuiltInAlgorithmImage.domainSuffix('us-isof-east-1')).toBe('csp.hci.ic.gov');
    expect(BuiltInAlgorithmImage.domainSuffix('eu-central-2')).toBe('amazonaws.com');
  });

  test('an unsupported region fails with the region, the image and the fix', () => {
    expect(() => XGBOOST.uriForRegion('mars-north-1')).toThrow(MlopsValidationError);
    expect(() => XGBOOST.uriForRegion('mars-north-1')).toThrow(
      /region 'mars-north-1' is not supported: SageMaker publishes the XGBoost 1\.7-1 image in af-south-1, .*; deploy the environment to one of them/,
    );
  });

  test('a stack in a known region gets a literal URI, and an unsupported one fails synth', () => {
    const app = new App();
    expect(XGBOOST.imageUri(new Stack(app, 'Eu', { env: { region: 'eu-west-1' } }))).toBe(
      XGBOOST.uriForRegion('eu-west-1'),
    );
    expect(() => XGBOOST.imageUri(new Stack(app, 'Mars', { env: { region: 'mars-north-1' } }))).toThrow(
      /not supported/,
    );
  });

  test('an environment-agnostic stack looks the account up at deploy time and rejects unsupported regions', () => {
    // GIVEN two images used in one environment-agnostic stack
    const stack = new Stack(new App(), 'Agnostic');
    new CfnWaitConditionHandle(stack, 'AnyResource');
    new CfnOutput(stack, 'Xgb', { value: XGBOOST.imageUri(stack) });
    new CfnOutput(stack, 'Sk', { value: SKLEARN.imageUri(stack) });
    const template = Template.fromStack(stack).toJSON();
    // THEN one mapping of every region, a FindInMap on AWS::Region, the partition's URL suffix,
    // and a rule that names the supported regions
    const [mappingId] = Object.keys(template.Mappings);
    expect(Object.keys(template.Mappings)).toHaveLength(1);
    expect(Object.keys(template.Mappings[mappingId])).toHaveLength(37);
    expect(template.Mappings[mappingId]['cn-north-1']).toEqual({ account: '450853457545' });
    expect(template.Outputs.Xgb.Value).toEqual({
      'Fn::Join': [
        '',
        [
          { 'Fn::FindInMap': [mappingId, { Ref: 'AWS::Region' }, 'account'] },
          '.dkr.ecr.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/sagemaker-xgboost:1.7-1',
        ],
      ],
    });
    const [rule] = Object.values(template.Rules) as Array<{
      Assertions: Array<{ Assert: { 'Fn::Contains': [string[], unknown] }; AssertDescription: string }>;
    }>;
    expect(rule.Assertions[0].Assert['Fn::Contains'][0]).toHaveLength(37);
    expect(rule.Assertions[0].AssertDescription).toMatch(
      /not published in this region; deploy to one of: af-south-1/,
    );
  });
});
