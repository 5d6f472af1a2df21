import { zooRtlSuite } from './helpers/zoo-rtl.js';

zooRtlSuite('vgg_bn');
