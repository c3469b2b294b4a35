#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { build } from './stacks';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
build(app);
app.synth();
